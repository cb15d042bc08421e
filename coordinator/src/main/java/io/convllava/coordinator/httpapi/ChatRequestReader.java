package io.convllava.coordinator.httpapi;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.protobuf.ByteString;
import io.convllava.coordinator.http.HttpError;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import io.convllava.proto.v1.SamplingOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the body of {@code POST /v1/chat/completions} (OpenAI's request) into the public API's request. Messages:
 * {@code system} (or {@code developer}) messages before the conversation become its system prompt; {@code user} and
 * {@code assistant} messages alternate, consecutive ones of the same role are joined; content is a string or parts of
 * type {@code text} and {@code image_url} (user messages only), the images going before the text as LLaVA was trained
 * (unless the text places them with {@code <image>}). Decoding: {@code max_tokens} (or {@code max_completion_tokens}),
 * {@code temperature} (absent = 0, greedy, unlike OpenAI's 1: the cluster's and the reference's default),
 * {@code top_p}, {@code top_k}, {@code seed}, {@code stop}; {@code template} picks the chat template. What cannot be
 * honoured is refused ({@link UnsupportedParameters}); what is malformed is a 400 naming the parameter.
 */
final class ChatRequestReader {
    private final ImageSources images;
    private final int maxTokens;

    /** @param maxTokens the largest max_tokens: the model's context ({@code ModelInfo.max_sequence_length}) */
    ChatRequestReader(ImageSources images, int maxTokens) {
        this.images = images;
        this.maxTokens = maxTokens;
    }

    ChatRequest read(InputStream body) {
        JsonObject json = parse(body);
        UnsupportedParameters.check(json);
        GenerateRequest.Builder request = GenerateRequest.newBuilder();
        String model = JsonParams.string(json, "model", "model");
        if (model != null && !model.isEmpty()) {
            request.setModel(model);
        }
        JsonArray messages = JsonParams.array(json, "messages", "messages");
        if (messages == null || messages.isEmpty()) {
            throw HttpError.invalid("messages is missing or empty: send at least one user message, e.g."
                    + " [{\"role\": \"user\", \"content\": \"How many shapes are in the image?\"}]", "messages");
        }
        addMessages(messages, request);
        maxTokens(json, request);
        request.setSampling(sampling(json));
        request.addAllStop(stop(json));
        String template = JsonParams.string(json, "template", "template");
        if (template != null) {
            request.setTemplate(template);
        }
        boolean stream = Boolean.TRUE.equals(JsonParams.bool(json, "stream", "stream"));
        boolean includeUsage = false;
        JsonElement options = JsonParams.get(json, "stream_options");
        if (stream && options != null) {
            includeUsage = Boolean.TRUE.equals(JsonParams.bool(JsonParams.object(options, "stream_options"),
                    "include_usage", "stream_options.include_usage"));
        }
        return new ChatRequest(request.build(), stream, includeUsage);
    }

    private static JsonObject parse(InputStream body) {
        JsonElement json;
        try (JsonReader reader = new JsonReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            reader.setStrictness(Strictness.STRICT);
            json = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("more than one JSON value");
            }
        } catch (JsonParseException | IOException | IllegalStateException e) {
            throw HttpError.invalid("the request body is not valid JSON (" + syntaxError(e) + "): send one JSON"
                    + " object", null);
        }
        if (!json.isJsonObject()) {
            throw HttpError.invalid("the request body must be a JSON object, got " + (json.isJsonArray() ? "an array"
                    : json.toString()), null);
        }
        return json.getAsJsonObject();
    }

    /** Gson's first line, without its advice to parse leniently: "malformed JSON at line 1 column 3 path $". */
    private static String syntaxError(Exception e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        String message = String.valueOf(cause.getMessage()).lines().findFirst().orElse("");
        return message.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept ", "");
    }

    /**
     * The conversation: leading system messages joined into one system prompt, then the user and assistant turns,
     * consecutive ones of a role joined; it starts and ends with the user.
     */
    private void addMessages(JsonArray messages, GenerateRequest.Builder request) {
        List<String> system = new ArrayList<>();
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            String param = "messages[" + i + "]";
            JsonObject m = JsonParams.object(messages.get(i), param);
            String role = JsonParams.string(m, "role", param + ".role");
            if (role == null) {
                throw HttpError.invalid(param + ".role is missing: use system, user or assistant", param + ".role");
            }
            if (JsonParams.get(m, "tool_calls") != null || JsonParams.get(m, "function_call") != null) {
                throw HttpError.unsupported(param + " has tool calls: this model calls no tools", param);
            }
            switch (role) {
                case "system", "developer" -> {
                    if (!turns.isEmpty()) {
                        throw HttpError.invalid(param + " is a " + role + " message after the conversation began:"
                                + " this model takes one system prompt, before the first user message",
                                param + ".role");
                    }
                    system.add(content(m, param, false).text());
                }
                case "user", "assistant" -> {
                    Message.Role r = role.equals("user") ? Message.Role.USER : Message.Role.ASSISTANT;
                    Content content = content(m, param, r == Message.Role.USER);
                    Turn last = turns.isEmpty() ? null : turns.get(turns.size() - 1);
                    if (last != null && last.role == r) {
                        last.add(content);
                    } else {
                        turns.add(new Turn(r, i, content));
                    }
                }
                default -> throw HttpError.invalid(param + ".role '" + role + "' is not supported: use system, user or"
                        + " assistant (this model calls no tools)", param + ".role");
            }
        }
        if (turns.isEmpty() || turns.get(0).role != Message.Role.USER) {
            throw HttpError.invalid("the conversation must begin with a user message (after any system message)",
                    "messages");
        }
        Turn last = turns.get(turns.size() - 1);
        if (last.role != Message.Role.USER) {
            throw HttpError.invalid("the last message must be from the user: the answer continues the conversation"
                    + " after it", "messages[" + (messages.size() - 1) + "]");
        }
        if (!system.isEmpty()) {
            request.addMessages(Message.newBuilder().setRole(Message.Role.SYSTEM).setText(String.join("\n", system)));
        }
        for (Turn turn : turns) {
            if (turn.role == Message.Role.USER && turn.text.toString().isBlank()) {
                String param = "messages[" + turn.firstIndex + "].content";
                throw HttpError.invalid(param + " has no text: " + (turn.images.isEmpty()
                        ? "write a question or an instruction" : "ask a question about the image"), param);
            }
            request.addMessages(Message.newBuilder().setRole(turn.role).setText(turn.text.toString())
                    .addAllImages(turn.images));
        }
    }

    /** A message's content: a string, or parts of type text and (when {@code imagesAllowed}) image_url. */
    private Content content(JsonObject message, String param, boolean imagesAllowed) {
        JsonElement content = JsonParams.get(message, "content");
        if (content == null) {
            throw HttpError.invalid(param + ".content is missing", param + ".content");
        }
        if (content.isJsonPrimitive() && content.getAsJsonPrimitive().isString()) {
            return new Content(content.getAsString(), List.of());
        }
        if (!content.isJsonArray()) {
            throw HttpError.invalid(param + ".content must be a string or an array of parts", param + ".content");
        }
        List<String> texts = new ArrayList<>();
        List<Image> parts = new ArrayList<>();
        JsonArray array = content.getAsJsonArray();
        for (int j = 0; j < array.size(); j++) {
            String partParam = param + ".content[" + j + "]";
            JsonObject part = JsonParams.object(array.get(j), partParam);
            String type = JsonParams.string(part, "type", partParam + ".type");
            if ("text".equals(type)) {
                String text = JsonParams.string(part, "text", partParam + ".text");
                if (text == null) {
                    throw HttpError.invalid(partParam + ".text is missing", partParam + ".text");
                }
                texts.add(text);
            } else if ("image_url".equals(type)) {
                if (!imagesAllowed) {
                    throw HttpError.invalid(partParam + ": only user messages can carry images", partParam);
                }
                parts.add(Image.newBuilder().setData(image(part, partParam)).build());
            } else {
                throw HttpError.invalid(partParam + ".type " + (type == null ? "is missing" : "'" + type
                        + "' is not supported") + ": use text or image_url", partParam + ".type");
            }
        }
        return new Content(String.join("\n", texts), parts);
    }

    /** {@code image_url}: {@code {"url": ...}} (OpenAI) or the URL itself. */
    private ByteString image(JsonObject part, String param) {
        JsonElement imageUrl = JsonParams.get(part, "image_url");
        String urlParam = param + ".image_url.url";
        String url;
        if (imageUrl != null && imageUrl.isJsonObject()) {
            url = JsonParams.string(imageUrl.getAsJsonObject(), "url", urlParam);
        } else if (imageUrl != null) {
            urlParam = param + ".image_url";
            url = JsonParams.string(imageUrl, urlParam);
        } else {
            url = null;
        }
        if (url == null) {
            throw HttpError.invalid(urlParam + " is missing: send the image as a data URL,"
                    + " data:image/png;base64,...", urlParam);
        }
        return images.load(url, urlParam);
    }

    private void maxTokens(JsonObject json, GenerateRequest.Builder request) {
        Long current = JsonParams.integer(json, "max_completion_tokens", "max_completion_tokens");
        Long legacy = JsonParams.integer(json, "max_tokens", "max_tokens");
        if (current != null && legacy != null && !current.equals(legacy)) {
            throw HttpError.invalid("max_tokens (" + legacy + ") and max_completion_tokens (" + current + ") differ:"
                    + " send one of them", "max_tokens");
        }
        Long max = current != null ? current : legacy;
        String param = current != null ? "max_completion_tokens" : "max_tokens";
        if (max == null) {
            return;
        }
        if (max < 1 || max > maxTokens) {
            throw HttpError.invalid(param + " must be between 1 and " + maxTokens + " (the model's context), got "
                    + max, param);
        }
        request.setMaxNewTokens(max.intValue());
    }

    private static SamplingOptions sampling(JsonObject json) {
        SamplingOptions.Builder sampling = SamplingOptions.newBuilder();
        Double temperature = JsonParams.number(json, "temperature", "temperature");
        if (temperature != null) {
            if (!(temperature >= 0) || temperature.isInfinite()) {
                throw HttpError.invalid("temperature must be a number >= 0 (0 = greedy), got " + temperature,
                        "temperature");
            }
            sampling.setTemperature(temperature.floatValue());
        }
        Double topP = JsonParams.number(json, "top_p", "top_p");
        if (topP != null) {
            if (!(topP > 0 && topP <= 1)) {
                throw HttpError.invalid("top_p must be in (0, 1] (1 = off), got " + topP, "top_p");
            }
            sampling.setTopP(topP.floatValue());
        }
        Long topK = JsonParams.integer(json, "top_k", "top_k");
        if (topK != null) {
            if (topK < 0 || topK > Integer.MAX_VALUE) {
                throw HttpError.invalid("top_k must be >= 0 (0 = off), got " + topK, "top_k");
            }
            sampling.setTopK(topK.intValue());
        }
        Long seed = JsonParams.integer(json, "seed", "seed");
        if (seed != null) {
            sampling.setSeed(seed);
        }
        return sampling.build();
    }

    /** {@code stop}: a string or an array of them, none empty. */
    private static List<String> stop(JsonObject json) {
        JsonElement stop = JsonParams.get(json, "stop");
        if (stop == null) {
            return List.of();
        }
        List<String> strings = new ArrayList<>();
        if (stop.isJsonArray()) {
            JsonArray array = stop.getAsJsonArray();
            for (int i = 0; i < array.size(); i++) {
                strings.add(JsonParams.string(array.get(i), "stop[" + i + "]"));
            }
        } else {
            strings.add(JsonParams.string(stop, "stop"));
        }
        for (String s : strings) {
            if (s.isEmpty()) {
                throw HttpError.invalid("stop holds an empty string: every stop string needs a character at least",
                        "stop");
            }
        }
        return strings;
    }

    /** The text and images of one message. */
    private record Content(String text, List<Image> images) {
    }

    /** One turn of the conversation: the messages of one role in a row, joined. */
    private static final class Turn {
        private final Message.Role role;
        private final int firstIndex;
        private final StringBuilder text;
        private final List<Image> images = new ArrayList<>();

        Turn(Message.Role role, int firstIndex, Content first) {
            this.role = role;
            this.firstIndex = firstIndex;
            this.text = new StringBuilder(first.text());
            this.images.addAll(first.images());
        }

        void add(Content more) {
            if (!more.text().isEmpty()) {
                text.append(text.isEmpty() ? "" : "\n").append(more.text());
            }
            images.addAll(more.images());
        }
    }
}
