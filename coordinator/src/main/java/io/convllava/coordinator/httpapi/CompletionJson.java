package io.convllava.coordinator.httpapi;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.convllava.proto.v1.BoundingBox;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.Timings;
import io.convllava.proto.v1.Usage;

/**
 * The objects of OpenAI's chat completions for one request: {@code chat.completion} for a whole answer,
 * {@code chat.completion.chunk} for the events of a streamed one. Beyond OpenAI's fields they carry the grounding
 * boxes of the answer ({@code boxes}, on the message, or on the last chunk's delta), the image tokens of the prompt
 * ({@code usage.prompt_tokens_details.image_tokens}) and where the time went ({@code timings}).
 */
final class CompletionJson {
    private final String id;
    private final long created;
    private final String model;

    /** @param created the request's arrival, in seconds since the epoch */
    CompletionJson(String id, long created, String model) {
        this.id = id;
        this.created = created;
        this.model = model;
    }

    /** The whole answer. */
    JsonObject completion(Final answer) {
        JsonObject message = new JsonObject();
        message.addProperty("role", "assistant");
        message.addProperty("content", answer.getText());
        if (answer.getBoxesCount() > 0) {
            message.add("boxes", boxes(answer));
        }
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.add("message", message);
        choice.add("logprobs", JsonNull.INSTANCE);
        choice.addProperty("finish_reason", finishReason(answer.getFinishReason()));
        JsonObject completion = head("chat.completion");
        completion.add("choices", array(choice));
        completion.add("usage", usage(answer.getUsage()));
        completion.add("timings", timings(answer.getTimings()));
        return completion;
    }

    /** The first event of a stream: the assistant's role, no text yet. */
    JsonObject roleChunk(boolean withUsage) {
        JsonObject delta = new JsonObject();
        delta.addProperty("role", "assistant");
        delta.addProperty("content", "");
        return chunk(delta, null, withUsage);
    }

    /** New text. */
    JsonObject textChunk(String text, boolean withUsage) {
        JsonObject delta = new JsonObject();
        delta.addProperty("content", text);
        return chunk(delta, null, withUsage);
    }

    /** The last event with a choice: why the answer ended, and its boxes. */
    JsonObject finishChunk(Final answer, boolean withUsage) {
        JsonObject delta = new JsonObject();
        if (answer.getBoxesCount() > 0) {
            delta.add("boxes", boxes(answer));
        }
        JsonObject chunk = chunk(delta, finishReason(answer.getFinishReason()), withUsage);
        chunk.add("timings", timings(answer.getTimings()));
        return chunk;
    }

    /** After the finish, when the client asked for usage ({@code stream_options.include_usage}): no choices. */
    JsonObject usageChunk(Final answer) {
        JsonObject chunk = head("chat.completion.chunk");
        chunk.add("choices", new JsonArray());
        chunk.add("usage", usage(answer.getUsage()));
        return chunk;
    }

    /** OpenAI's reasons: {@code stop} (end of sequence or a stop string), {@code length} (max_tokens or context). */
    static String finishReason(Final.FinishReason reason) {
        return reason == Final.FinishReason.LENGTH ? "length" : "stop";
    }

    static JsonObject usage(Usage u) {
        JsonObject details = new JsonObject();
        details.addProperty("cached_tokens", u.getCachedPromptTokens());
        details.addProperty("image_tokens", u.getImageTokens());
        JsonObject usage = new JsonObject();
        usage.addProperty("prompt_tokens", u.getPromptTokens());
        usage.addProperty("completion_tokens", u.getCompletionTokens());
        usage.addProperty("total_tokens", u.getPromptTokens() + u.getCompletionTokens());
        usage.add("prompt_tokens_details", details);
        return usage;
    }

    /**
     * Each box: {@code image_index}, the corners in the original image's pixels ({@code x1, y1, x2, y2}) and the
     * four numbers as the model wrote them ({@code normalized}).
     */
    static JsonArray boxes(Final answer) {
        JsonArray boxes = new JsonArray();
        for (BoundingBox b : answer.getBoxesList()) {
            JsonObject box = new JsonObject();
            box.addProperty("image_index", b.getImageIndex());
            box.addProperty("x1", b.getX1());
            box.addProperty("y1", b.getY1());
            box.addProperty("x2", b.getX2());
            box.addProperty("y2", b.getY2());
            JsonArray normalized = new JsonArray();
            b.getNormalizedList().forEach(normalized::add);
            box.add("normalized", normalized);
            boxes.add(box);
        }
        return boxes;
    }

    private static JsonObject timings(Timings t) {
        JsonObject timings = new JsonObject();
        timings.addProperty("queue_ms", t.getQueueMs());
        timings.addProperty("encode_ms", t.getEncodeMs());
        timings.addProperty("image_ms", t.getImageMs());
        timings.addProperty("prefill_ms", t.getPrefillMs());
        timings.addProperty("first_token_ms", t.getFirstTokenMs());
        timings.addProperty("total_ms", t.getTotalMs());
        return timings;
    }

    private JsonObject chunk(JsonObject delta, String finishReason, boolean withUsage) {
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.add("delta", delta);
        choice.add("logprobs", JsonNull.INSTANCE);
        choice.add("finish_reason", finishReason == null ? JsonNull.INSTANCE
                : new JsonPrimitive(finishReason));
        JsonObject chunk = head("chat.completion.chunk");
        chunk.add("choices", array(choice));
        if (withUsage) {
            chunk.add("usage", JsonNull.INSTANCE); // as OpenAI: null on every chunk but the usage one
        }
        return chunk;
    }

    private JsonObject head(String object) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("object", object);
        o.addProperty("created", created);
        o.addProperty("model", model);
        return o;
    }

    private static JsonArray array(JsonObject element) {
        JsonArray a = new JsonArray();
        a.add(element);
        return a;
    }
}
