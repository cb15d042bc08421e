package io.convllava.coordinator.httpapi;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.convllava.coordinator.http.HttpError;

import java.util.function.Predicate;

/**
 * The parameters of OpenAI's chat completions that this server cannot honour: a request that sets one to anything
 * but its neutral value is refused with 400 naming it, rather than answered as if it had not been asked. Parameters
 * that change nothing about the answer ({@code user}, {@code metadata}, {@code store}, ...) and unknown ones are
 * ignored.
 */
final class UnsupportedParameters {
    private record Rule(String name, Predicate<JsonElement> neutral, String why) {
    }

    private static final Rule[] RULES = {
        new Rule("n", e -> isNumber(e, 1), "this server returns one choice per request: send n requests for n"
                + " answers"),
        new Rule("logprobs", e -> e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean() && !e.getAsBoolean(),
                 "log probabilities are not returned"),
        new Rule("top_logprobs", e -> false, "log probabilities are not returned"),
        new Rule("tools", UnsupportedParameters::isEmpty, "this model calls no tools"),
        new Rule("functions", UnsupportedParameters::isEmpty, "this model calls no functions"),
        new Rule("tool_choice", e -> isString(e, "none"), "this model calls no tools"),
        new Rule("function_call", e -> isString(e, "none"), "this model calls no functions"),
        new Rule("response_format", e -> e.isJsonObject() && e.getAsJsonObject().has("type")
                && isString(e.getAsJsonObject().get("type"), "text"), "answers are plain text"),
        new Rule("frequency_penalty", e -> isNumber(e, 0), "repetition penalties are not applied"),
        new Rule("presence_penalty", e -> isNumber(e, 0), "repetition penalties are not applied"),
        new Rule("logit_bias", UnsupportedParameters::isEmpty, "logits are not biased"),
        new Rule("modalities", e -> e.isJsonArray() && e.getAsJsonArray().size() == 1
                && isString(e.getAsJsonArray().get(0), "text"), "answers are text only"),
        new Rule("audio", e -> false, "answers are text only"),
        new Rule("prediction", e -> false, "predicted outputs are not used"),
        new Rule("web_search_options", e -> false, "this model does not search the web"),
    };

    private UnsupportedParameters() {
    }

    /** Refuses the first parameter set to a value this server cannot honour. */
    static void check(JsonObject request) {
        for (Rule rule : RULES) {
            JsonElement value = JsonParams.get(request, rule.name());
            if (value != null && !rule.neutral().test(value)) {
                throw HttpError.unsupported(rule.name() + " " + shown(value) + " is not supported: " + rule.why(),
                        rule.name());
            }
        }
    }

    private static boolean isNumber(JsonElement e, double value) {
        return e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() && e.getAsDouble() == value;
    }

    private static boolean isString(JsonElement e, String value) {
        return e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() && e.getAsString().equals(value);
    }

    private static boolean isEmpty(JsonElement e) {
        return e.isJsonArray() && e.getAsJsonArray().isEmpty() || e.isJsonObject() && e.getAsJsonObject().isEmpty();
    }

    private static String shown(JsonElement value) {
        String text = value.toString();
        return "(" + (text.length() <= 40 ? text : text.substring(0, 37) + "...") + ")";
    }
}
