package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.BearerTokens;
import io.convllava.coordinator.http.HttpServerOptions;
import io.convllava.coordinator.httpapi.HttpApiConfig;
import io.convllava.coordinator.server.CoordinatorServer;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.proto.v1.BoundingBox;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenAI-compatible HTTP API of a real cluster of the demo model (coordinator with bearer tokens, a vision node,
 * two llm stages), called with plain HTTP: every sample of samples.json gets its reference answer with the image as a
 * data URL, streamed or whole, grounding boxes as the gRPC API gives them, a conversation with a system prompt as the
 * gRPC API answers it, and every kind of error in OpenAI's shape with its status.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpApiTest {
    private static final String TOKEN = "http-api-test-token";
    private static final String MODEL = "convllava-shapes";
    private static final String COUNT_QUESTION = "How many shapes are in the image?";

    private final Path model = Fixtures.shapesModel();
    private TestingServer zookeeper;
    private TestCluster cluster;
    private OpenAiHttp http;
    private int httpPort;
    private ConvLlavaGrpc.ConvLlavaBlockingStub grpc;
    private JsonArray samples;
    private byte[] countImage;

    @BeforeAll
    void start() throws Exception {
        Path tokens = Files.createTempFile("http-api-tokens", "");
        Files.writeString(tokens, TOKEN + "\n");
        BearerTokens required = BearerTokens.load(tokens);
        zookeeper = new TestingServer(true);
        cluster = new TestCluster(zookeeper, ModelFiles.resolve(model.toString(), null, null), MODEL);
        CoordinatorServer coordinator = cluster.coordinator(ServedModel.load(MODEL,
                ModelFiles.resolve(model.toString(), null, null)),
                c -> c.withTokens(required).withHttp(HttpApiConfig.onPort(0)));
        cluster.vision();
        cluster.llm("0-2");
        cluster.llm("2-4");
        cluster.awaitPipelines(1);
        http = new OpenAiHttp(coordinator.httpUrl(), TOKEN);
        httpPort = URI.create(coordinator.httpUrl()).getPort();
        grpc = cluster.client().withInterceptors(BearerTokens.sending(TOKEN));
        samples = JsonParser.parseString(Files.readString(model.resolve("samples.json"))).getAsJsonObject()
                .getAsJsonArray("samples");
        countImage = Files.readAllBytes(model.resolve("samples/sample-count-0.png"));
        Files.delete(tokens);
    }

    @AfterAll
    void stop() throws Exception {
        cluster.close();
        zookeeper.close();
    }

    @Test
    void everySampleGetsItsReferenceAnswerAndGroundingBoxesLikeTheGrpcApi() throws Exception {
        int grounding = 0;
        for (JsonElement e : samples) {
            JsonObject sample = e.getAsJsonObject();
            byte[] image = Files.readAllBytes(model.resolve(sample.get("image").getAsString()));
            String question = sample.get("question").getAsString();
            OpenAiHttp.Response r = http.post("/v1/chat/completions",
                    OpenAiHttp.chat(question, image, 40).toString());
            assertEquals(200, r.status(), r.json().toString());
            JsonObject completion = r.json();
            assertEquals("chat.completion", completion.get("object").getAsString());
            assertEquals(MODEL, completion.get("model").getAsString());
            assertTrue(completion.get("id").getAsString().startsWith("chatcmpl-"));
            JsonObject choice = completion.getAsJsonArray("choices").get(0).getAsJsonObject();
            JsonObject message = choice.getAsJsonObject("message");
            assertEquals("assistant", message.get("role").getAsString());
            assertEquals(sample.get("reference_answer").getAsString(), message.get("content").getAsString(),
                    sample.get("image").getAsString());
            assertEquals("stop", choice.get("finish_reason").getAsString());
            JsonObject usage = completion.getAsJsonObject("usage");
            assertEquals(16, usage.getAsJsonObject("prompt_tokens_details").get("image_tokens").getAsInt(),
                    "a 256 px image of the demo model is 16 positions");
            assertEquals(usage.get("prompt_tokens").getAsInt() + usage.get("completion_tokens").getAsInt(),
                    usage.get("total_tokens").getAsInt());
            if (!sample.get("kind").getAsString().equals("ground")) {
                assertTrue(!message.has("boxes"), "no box in " + message);
                continue;
            }
            grounding++;
            Final expected = Streams.collect(grpc.generate(Streams.request(question, image, 40, false))).last();
            JsonObject box = message.getAsJsonArray("boxes").get(0).getAsJsonObject();
            BoundingBox want = expected.getBoxes(0);
            assertEquals(want.getX1(), box.get("x1").getAsFloat());
            assertEquals(want.getY1(), box.get("y1").getAsFloat());
            assertEquals(want.getX2(), box.get("x2").getAsFloat());
            assertEquals(want.getY2(), box.get("y2").getAsFloat());
            assertEquals(0, box.get("image_index").getAsInt());
            JsonArray normalized = box.getAsJsonArray("normalized");
            String[] written = message.get("content").getAsString().replaceAll("[\\[\\] ]", "").split(",");
            for (int i = 0; i < 4; i++) {
                assertEquals(Float.parseFloat(written[i]), normalized.get(i).getAsFloat(), "as the model wrote it");
            }
        }
        assertEquals(2, grounding, "the demo model has two grounding samples");
    }

    @Test
    void theCountingSampleStreamedAsServerSentEvents() throws Exception {
        JsonObject request = OpenAiHttp.chat(COUNT_QUESTION, countImage, 40);
        request.addProperty("stream", true);
        JsonObject options = new JsonObject();
        options.addProperty("include_usage", true);
        request.add("stream_options", options);
        List<String> events = http.stream(request.toString());
        assertEquals("[DONE]", events.get(events.size() - 1), "the stream ends with [DONE]");
        List<JsonObject> chunks = events.subList(0, events.size() - 1).stream()
                .map(d -> JsonParser.parseString(d).getAsJsonObject()).toList();
        String id = chunks.get(0).get("id").getAsString();
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (JsonObject chunk : chunks) {
            assertEquals("chat.completion.chunk", chunk.get("object").getAsString());
            assertEquals(id, chunk.get("id").getAsString(), "one id for the whole stream");
            JsonArray choices = chunk.getAsJsonArray("choices");
            if (choices.isEmpty()) {
                continue;
            }
            JsonObject choice = choices.get(0).getAsJsonObject();
            JsonObject delta = choice.getAsJsonObject("delta");
            if (delta.has("content")) {
                text.append(delta.get("content").getAsString());
            }
            if (!choice.get("finish_reason").isJsonNull()) {
                finish = choice.get("finish_reason").getAsString();
            }
        }
        assertEquals("assistant", chunks.get(0).getAsJsonArray("choices").get(0).getAsJsonObject()
                .getAsJsonObject("delta").get("role").getAsString(), "the first chunk names the role");
        assertEquals(reference("samples/sample-count-0.png"), text.toString());
        assertEquals("stop", finish);
        JsonObject last = chunks.get(chunks.size() - 1);
        assertTrue(last.getAsJsonArray("choices").isEmpty(), "the usage chunk has no choices");
        JsonObject whole = http.post("/v1/chat/completions", OpenAiHttp.chat(COUNT_QUESTION, countImage, 40)
                .toString()).json();
        assertEquals(whole.getAsJsonObject("usage").get("completion_tokens"),
                last.getAsJsonObject("usage").get("completion_tokens"));
        assertEquals(whole.getAsJsonObject("usage").get("prompt_tokens"),
                last.getAsJsonObject("usage").get("prompt_tokens"));
    }

    @Test
    void aConversationWithASystemPromptIsAnsweredAsTheGrpcApiAnswersIt() throws Exception {
        String system = "You are a careful assistant who counts shapes.";
        JsonObject request = OpenAiHttp.chat(COUNT_QUESTION, countImage, 40);
        JsonArray messages = new JsonArray();
        JsonObject systemMessage = new JsonObject();
        systemMessage.addProperty("role", "system");
        systemMessage.addProperty("content", system);
        messages.add(systemMessage);
        messages.add(request.getAsJsonArray("messages").get(0));
        JsonObject assistant = new JsonObject();
        assistant.addProperty("role", "assistant");
        assistant.addProperty("content", "Three.");
        messages.add(assistant);
        JsonObject again = new JsonObject();
        again.addProperty("role", "user");
        again.addProperty("content", "Count them again: how many shapes are there?");
        messages.add(again);
        request.add("messages", messages);
        JsonObject completion = http.post("/v1/chat/completions", request.toString()).json();

        Final expected = Streams.collect(grpc.generate(GenerateRequest.newBuilder()
                .addMessages(Message.newBuilder().setRole(Message.Role.SYSTEM).setText(system))
                .addMessages(Message.newBuilder().setRole(Message.Role.USER).setText(COUNT_QUESTION)
                        .addImages(Image.newBuilder().setData(ByteString.copyFrom(countImage))))
                .addMessages(Message.newBuilder().setRole(Message.Role.ASSISTANT).setText("Three."))
                .addMessages(Message.newBuilder().setRole(Message.Role.USER)
                        .setText("Count them again: how many shapes are there?"))
                .setMaxNewTokens(40).build())).last();
        JsonObject choice = completion.getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals(expected.getText(), choice.getAsJsonObject("message").get("content").getAsString());
        assertEquals(expected.getUsage().getPromptTokens(),
                completion.getAsJsonObject("usage").get("prompt_tokens").getAsInt());
        int[] systemIds = ServedModel.load(MODEL, ModelFiles.resolve(model.toString(), null, null)).tokenizer()
                .encode(system, true);
        assertEquals(Arrays.stream(systemIds).boxed().toList(), expected.getInputIdsList().subList(0,
                systemIds.length), "the prompt begins with the system message instead of the template's");
    }

    @Test
    void maxTokensEndsTheAnswerWithLength() throws Exception {
        JsonObject completion = http.post("/v1/chat/completions",
                OpenAiHttp.chat(COUNT_QUESTION, countImage, 1).toString()).json();
        JsonObject choice = completion.getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals("length", choice.get("finish_reason").getAsString());
        assertEquals(1, completion.getAsJsonObject("usage").get("completion_tokens").getAsInt());
        assertTrue(reference("samples/sample-count-0.png").startsWith(
                choice.getAsJsonObject("message").get("content").getAsString()));
    }

    @Test
    void modelsAndTheClusterStatus() throws Exception {
        OpenAiHttp.Response models = http.get("/v1/models");
        assertEquals(200, models.status());
        assertEquals("list", models.json().get("object").getAsString());
        JsonObject listed = models.json().getAsJsonArray("data").get(0).getAsJsonObject();
        assertEquals(MODEL, listed.get("id").getAsString());
        assertEquals("model", listed.get("object").getAsString());
        assertEquals(16, listed.get("tokens_per_image").getAsInt());
        assertEquals(listed, http.get("/v1/models/" + MODEL).json());
        OpenAiHttp.Response other = http.get("/v1/models/gpt-4o");
        assertEquals(404, other.status());
        assertEquals("model_not_found", other.error().get("code").getAsString());

        JsonObject status = http.get("/v1/cluster").json();
        assertTrue(status.get("layers_covered").getAsBoolean());
        assertEquals(4, status.get("num_layers").getAsInt());
        assertEquals(1, status.getAsJsonArray("pipelines").size());
        assertEquals(2, status.getAsJsonArray("pipelines").get(0).getAsJsonArray().size());
        List<String> roles = new ArrayList<>();
        status.getAsJsonArray("nodes").forEach(n -> roles.add(n.getAsJsonObject().get("role").getAsString()));
        assertEquals(List.of("coordinator", "llm", "llm", "vision"), roles.stream().sorted().toList());
    }

    @Test
    void errorsComeInOpenAisShapeWithTheirStatus() throws Exception {
        assertError(http.post("/v1/chat/completions", "{\"messages\": ["), 400, "invalid_request_error", null,
                "the request body is not valid JSON");
        JsonObject twoChoices = OpenAiHttp.chat(COUNT_QUESTION, countImage, 8);
        twoChoices.addProperty("n", 2);
        assertError(http.post("/v1/chat/completions", twoChoices.toString()), 400, "invalid_request_error", "n",
                "n (2) is not supported");
        JsonObject otherModel = OpenAiHttp.chat(COUNT_QUESTION, countImage, 8);
        otherModel.addProperty("model", "gpt-4o");
        OpenAiHttp.Response unknown = http.post("/v1/chat/completions", otherModel.toString());
        assertError(unknown, 404, "invalid_request_error", "model", "model 'gpt-4o' is not served here");
        assertEquals("model_not_found", unknown.error().get("code").getAsString());
        JsonObject tooLong = OpenAiHttp.chat(COUNT_QUESTION, countImage, 5000);
        assertError(http.post("/v1/chat/completions", tooLong.toString()), 400, "invalid_request_error",
                "max_tokens", "max_tokens must be between 1 and 4096");
        JsonObject undecodable = OpenAiHttp.chat(COUNT_QUESTION, "not an image".getBytes(StandardCharsets.UTF_8), 8);
        OpenAiHttp.Response badImage = http.post("/v1/chat/completions", undecodable.toString());
        assertEquals(400, badImage.status(), badImage.json().toString());
        System.out.println("an undecodable image: " + badImage.error().get("message").getAsString());

        OpenAiHttp.Response anonymous = http.withToken(null).post("/v1/chat/completions",
                OpenAiHttp.chat(COUNT_QUESTION, countImage, 8).toString());
        assertError(anonymous, 401, "authentication_error", null, "this API needs a bearer token");
        assertEquals("invalid_api_key", anonymous.error().get("code").getAsString());
        assertError(http.withToken("guessed").get("/v1/models"), 401, "authentication_error", null,
                "the bearer token is not accepted");
        assertError(http.withToken(null).get("/v1/cluster"), 401, "authentication_error", null, "bearer token");

        // a body over the limit is refused from its declared length, before it is sent (and before the token)
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), httpPort)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + (HttpServerOptions.MAX_BODY_BYTES + 1L)
                    + "\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("HTTP/1.1 413 Request Entity Too Large", in.readLine());
            int length = -1;
            for (String line = in.readLine(); !line.isEmpty(); line = in.readLine()) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
                }
            }
            char[] body = new char[length];
            for (int read = 0; read < length; ) {
                read += in.read(body, read, length - read);
            }
            JsonObject error = JsonParser.parseString(new String(body)).getAsJsonObject().getAsJsonObject("error");
            assertEquals("request_too_large", error.get("code").getAsString());
            assertTrue(error.get("message").getAsString().contains("more than the " + HttpServerOptions.MAX_BODY_BYTES
                    + " accepted"), error.toString());
        }
    }

    private String reference(String image) {
        for (JsonElement e : samples) {
            if (e.getAsJsonObject().get("image").getAsString().equals(image)) {
                return e.getAsJsonObject().get("reference_answer").getAsString();
            }
        }
        throw new AssertionError("no sample " + image);
    }

    private static void assertError(OpenAiHttp.Response r, int status, String type, String param, String message) {
        assertEquals(status, r.status(), r.json().toString());
        JsonObject error = r.error();
        assertEquals(type, error.get("type").getAsString());
        assertEquals(param, error.get("param").isJsonNull() ? null : error.get("param").getAsString());
        assertTrue(error.get("message").getAsString().contains(message), error.toString());
    }
}
