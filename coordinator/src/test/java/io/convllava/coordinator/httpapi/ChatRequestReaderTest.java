package io.convllava.coordinator.httpapi;

import io.convllava.common.testing.Fixtures;
import io.convllava.coordinator.http.HttpError;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Message;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OpenAI's chat completion requests read into the public API's GenerateRequest, and refused naming the parameter. */
class ChatRequestReaderTest {
    private static final int CONTEXT = 4096;
    private final ChatRequestReader reader = new ChatRequestReader(new ImageSources(null), CONTEXT);

    @Test
    void aQuestionAboutAnImageWithEveryDecodingParameter() throws Exception {
        byte[] png = Files.readAllBytes(Fixtures.shapesModel().resolve("samples/sample-count-0.png"));
        String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
        ChatRequest chat = read("""
                {"model": "convllava-shapes", "stream": true, "stream_options": {"include_usage": true},
                 "messages": [{"role": "user", "content": [
                     {"type": "text", "text": "How many shapes are in the image?"},
                     {"type": "image_url", "image_url": {"url": "%s", "detail": "high"}}]}],
                 "max_tokens": 40, "temperature": 0.7, "top_p": 0.9, "top_k": 5, "seed": -3, "stop": ["\\n", "."],
                 "n": 1, "logprobs": false, "user": "someone", "template": "llava_v1", "presence_penalty": 0}
                """.formatted(url));
        assertTrue(chat.stream());
        assertTrue(chat.includeUsage());
        GenerateRequest r = chat.request();
        assertEquals("convllava-shapes", r.getModel());
        assertEquals(1, r.getMessagesCount());
        Message user = r.getMessages(0);
        assertEquals(Message.Role.USER, user.getRole());
        assertEquals("How many shapes are in the image?", user.getText());
        assertArrayEquals(png, user.getImages(0).getData().toByteArray());
        assertEquals(40, r.getMaxNewTokens());
        assertEquals(0.7f, r.getSampling().getTemperature());
        assertEquals(0.9f, r.getSampling().getTopP());
        assertEquals(5, r.getSampling().getTopK());
        assertEquals(-3L, r.getSampling().getSeed());
        assertEquals(List.of("\n", "."), r.getStopList());
        assertEquals("llava_v1", r.getTemplate());
    }

    @Test
    void defaultsAreGreedyUnstreamedAndTheClustersModel() {
        ChatRequest chat = read("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}],"
                + " \"stream_options\": {\"include_usage\": true}}");
        assertFalse(chat.stream());
        assertFalse(chat.includeUsage(), "usage chunks are for streams only");
        GenerateRequest r = chat.request();
        assertFalse(r.hasModel());
        assertEquals(0f, r.getSampling().getTemperature(), "absent temperature: greedy");
        assertFalse(r.getSampling().hasSeed());
        assertEquals(0, r.getMaxNewTokens(), "absent: the cluster's default");
    }

    @Test
    void systemMessagesBecomeTheSystemPromptAndTurnsOfOneRoleAreJoined() {
        GenerateRequest r = read("""
                {"messages": [
                  {"role": "system", "content": "You count shapes."},
                  {"role": "developer", "content": [{"type": "text", "text": "Answer in one word."}]},
                  {"role": "user", "content": "Look."},
                  {"role": "user", "content": [{"type": "text", "text": "How many?"}]},
                  {"role": "assistant", "content": "Three."},
                  {"role": "user", "content": "Sure?", "name": "someone"}]}
                """).request();
        assertEquals(List.of(Message.Role.SYSTEM, Message.Role.USER, Message.Role.ASSISTANT, Message.Role.USER),
                r.getMessagesList().stream().map(Message::getRole).toList());
        assertEquals(List.of("You count shapes.\nAnswer in one word.", "Look.\nHow many?", "Three.", "Sure?"),
                r.getMessagesList().stream().map(Message::getText).toList());
    }

    @Test
    void malformedRequestsAreRefusedNamingTheParameter() {
        assertRefused("{\"messages\": [", null, "the request body is not valid JSON");
        assertRefused("[1, 2]", null, "the request body must be a JSON object, got an array");
        assertRefused("{\"messages\": []} {}", null, "not valid JSON (malformed JSON at line 1 column 19 path $)");
        assertRefused("{}", "messages", "messages is missing or empty");
        assertRefused("{\"messages\": \"hi\"}", "messages", "messages must be an array, got \"hi\"");
        assertRefused(user("\"Hi\"") + ", \"model\": 7}", "model", "model must be a string, got 7");
        assertRefused("{\"messages\": [{\"content\": \"Hi\"}]}", "messages[0].role", "messages[0].role is missing");
        assertRefused("{\"messages\": [{\"role\": \"tool\", \"content\": \"42\"}]}", "messages[0].role",
                "messages[0].role 'tool' is not supported");
        assertRefused("{\"messages\": [{\"role\": \"user\"}]}", "messages[0].content",
                "messages[0].content is missing");
        assertRefused(user("[{\"type\": \"input_audio\"}]") + "}", "messages[0].content[0].type",
                "messages[0].content[0].type 'input_audio' is not supported: use text or image_url");
        assertRefused(user("[{\"type\": \"image_url\"}, {\"type\": \"text\", \"text\": \"Hi\"}]") + "}",
                "messages[0].content[0].image_url.url", "is missing: send the image as a data URL");
        assertRefused(user("\"  \"") + "}", "messages[0].content", "messages[0].content has no text");
        assertRefused("{\"messages\": [{\"role\": \"assistant\", \"content\": \"Hi\"}]}", "messages",
                "the conversation must begin with a user message");
        assertRefused("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\","
                + " \"content\": \"Hello\"}]}", "messages[1]", "the last message must be from the user");
        assertRefused("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"system\","
                + " \"content\": \"Be brief\"}, {\"role\": \"user\", \"content\": \"Hi\"}]}", "messages[1].role",
                "messages[1] is a system message after the conversation began");
        assertRefused("{\"messages\": [{\"role\": \"system\", \"content\": [{\"type\": \"image_url\", \"image_url\":"
                + " {\"url\": \"data:image/png;base64,AAAA\"}}]}, {\"role\": \"user\", \"content\": \"Hi\"}]}",
                "messages[0].content[0]", "only user messages can carry images");
        assertRefused("{\"messages\": [{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{}]}]}",
                "messages[0]", "has tool calls");
    }

    @Test
    void decodingParametersOutOfRangeAreRefused() {
        assertRefused(user("\"Hi\"") + ", \"max_tokens\": 0}", "max_tokens",
                "max_tokens must be between 1 and 4096 (the model's context), got 0");
        assertRefused(user("\"Hi\"") + ", \"max_completion_tokens\": 5000}", "max_completion_tokens",
                "max_completion_tokens must be between 1 and 4096");
        assertRefused(user("\"Hi\"") + ", \"max_tokens\": 2.5}", "max_tokens", "max_tokens must be a whole number");
        assertRefused(user("\"Hi\"") + ", \"max_tokens\": 5, \"max_completion_tokens\": 6}", "max_tokens", "differ");
        assertRefused(user("\"Hi\"") + ", \"temperature\": -0.5}", "temperature", "temperature must be a number >= 0");
        assertRefused(user("\"Hi\"") + ", \"temperature\": \"hot\"}", "temperature", "temperature must be a number");
        assertRefused(user("\"Hi\"") + ", \"top_p\": 0}", "top_p", "top_p must be in (0, 1]");
        assertRefused(user("\"Hi\"") + ", \"top_k\": -1}", "top_k", "top_k must be >= 0");
        assertRefused(user("\"Hi\"") + ", \"seed\": 1e30}", "seed", "seed must be a whole number (within 64 bits)");
        assertRefused(user("\"Hi\"") + ", \"stop\": [\"\"]}", "stop", "stop holds an empty string");
        assertRefused(user("\"Hi\"") + ", \"stop\": [3]}", "stop[0]", "stop[0] must be a string, got 3");
        assertRefused(user("\"Hi\"") + ", \"stream\": \"yes\"}", "stream", "stream must be true or false");
    }

    @Test
    void whatCannotBeHonouredIsRefusedNotIgnored() {
        assertUnsupported(", \"n\": 2", "n", "n (2) is not supported: this server returns one choice per request");
        assertUnsupported(", \"logprobs\": true", "logprobs", "log probabilities are not returned");
        assertUnsupported(", \"tools\": [{\"type\": \"function\"}]", "tools", "this model calls no tools");
        assertUnsupported(", \"tool_choice\": \"auto\"", "tool_choice", "this model calls no tools");
        assertUnsupported(", \"response_format\": {\"type\": \"json_object\"}", "response_format",
                "answers are plain text");
        assertUnsupported(", \"frequency_penalty\": 0.5", "frequency_penalty", "repetition penalties");
        assertUnsupported(", \"logit_bias\": {\"50256\": -100}", "logit_bias", "logits are not biased");
        read(user("\"Hi\"") + ", \"n\": 1, \"tools\": [], \"tool_choice\": \"none\", \"response_format\":"
                + " {\"type\": \"text\"}, \"frequency_penalty\": 0, \"logit_bias\": {}, \"modalities\": [\"text\"]}");
    }

    @Test
    void imagesComeAsBase64DataUrlsWithinTheSizeLimit() {
        String param = "messages[0].content[1].image_url.url";
        assertRefused(image("data:image/png,rawbytes"), param, "a data URL without ';base64'");
        assertRefused(image("data:text/plain;base64,aGk="), param, "a data URL of text/plain, not of an image");
        assertRefused(image("data:image/png;base64,@@@@"), param, "is not valid base64");
        assertRefused(image("data:image/png;base64,"), param, "is an empty data URL");
        assertRefused(image("https://example.com/cat.png"), param, "this server does not download images (its"
                + " operator can allow it with --allow-image-urls)");
        assertRefused(image("file:///etc/passwd"), param, "must be a data URL (data:image/png;base64,...) or an http(s)"
                + " URL, got 'file:///etc/passwd'");
        String huge = "data:image/png;base64," + "A".repeat((32 << 20) / 3 * 4 + 8);
        assertRefused(image(huge), param, param + " is 33554436 bytes; images are limited to 33554432 bytes");
        byte[] wrapped = read(image("data:image/png;base64,aGVs\nbG8=")).request().getMessages(0).getImages(0)
                .getData().toByteArray();
        assertEquals("hello", new String(wrapped, StandardCharsets.UTF_8), "line breaks of wrapped base64 are skipped");
    }

    private ChatRequest read(String json) {
        return reader.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    }

    private static String user(String content) {
        return "{\"messages\": [{\"role\": \"user\", \"content\": " + content + "}]";
    }

    private static String image(String url) {
        return user("[{\"type\": \"text\", \"text\": \"What is it?\"}, {\"type\": \"image_url\", \"image_url\":"
                + " {\"url\": \"" + url.replace("\n", "\\n") + "\"}}]") + "}";
    }

    private void assertRefused(String json, String param, String message) {
        HttpError e = assertThrows(HttpError.class, () -> read(json));
        assertEquals(400, e.status().code());
        assertEquals(param, e.param(), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    private void assertUnsupported(String parameter, String param, String message) {
        HttpError e = assertThrows(HttpError.class, () -> read(user("\"Hi\"") + parameter + "}"));
        assertEquals(400, e.status().code());
        assertEquals("unsupported_parameter", e.code());
        assertEquals(param, e.param());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
