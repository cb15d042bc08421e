package io.convllava.tests;

import com.google.gson.JsonObject;
import io.convllava.coordinator.httpapi.HttpApiConfig;
import io.convllava.coordinator.server.CoordinatorServer;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
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
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An HTTP client that goes away in the middle of its answer cancels the generation: every llm stage releases the
 * session, streamed or not. The tiny fixture model never ends its answers by itself, so a 2000-token request is still
 * generating when its client hangs up (the whole answer takes 22 s on a 2-core machine; the sessions go within 0.4 s).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpApiCancellationTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final int LONG_ANSWER = 2000;

    private TestingServer zookeeper;
    private TestCluster cluster;
    private List<LlmNode> llmNodes;
    private int port;
    private byte[] image;

    @BeforeAll
    void start() throws Exception {
        zookeeper = new TestingServer(true);
        cluster = new TestCluster(zookeeper);
        CoordinatorServer coordinator = cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY),
                c -> c.withHttp(HttpApiConfig.onPort(0)));
        cluster.vision();
        llmNodes = List.of(cluster.llm("0-2"), cluster.llm("2-4"));
        cluster.awaitPipelines(1);
        port = URI.create(coordinator.httpUrl()).getPort();
        image = Files.readAllBytes(TINY.image());
    }

    @AfterAll
    void stop() throws Exception {
        cluster.close();
        zookeeper.close();
    }

    @Test
    void aStreamedAnswerWhoseClientHangsUpReleasesItsSessionOnEveryStage() throws Exception {
        JsonObject request = OpenAiHttp.chat(TINY.question(0), image, LONG_ANSWER);
        request.addProperty("stream", true);
        long hungUp;
        try (Socket client = post(request)) {
            BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("HTTP/1.1 200 OK", in.readLine());
            int texts = 0;
            for (String line = in.readLine(); texts < 3; line = in.readLine()) {
                if (line.contains("\"delta\":{\"content\"")) {
                    texts++; // the answer is under way: three pieces of it have arrived
                }
            }
            assertTrue(llmNodes.stream().allMatch(n -> n.activeSessions() == 1), "every stage holds the session");
            hungUp = System.nanoTime();
        }
        awaitReleased(hungUp);
    }

    @Test
    void aWholeAnswerWhoseClientHangsUpReleasesItsSessionOnEveryStage() throws Exception {
        long hungUp;
        try (Socket client = post(OpenAiHttp.chat(TINY.question(0), image, LONG_ANSWER))) {
            TestCluster.await(() -> llmNodes.stream().allMatch(n -> n.activeSessions() == 1),
                    "the generation to be under way on every stage");
            Thread.sleep(200);
            hungUp = System.nanoTime();
        }
        awaitReleased(hungUp);
    }

    /** Sends the request on a connection of its own, and leaves the answer to the caller. */
    private Socket post(JsonObject request) throws Exception {
        byte[] body = request.toString().getBytes(StandardCharsets.UTF_8);
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(60_000);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return socket;
    }

    private void awaitReleased(long hungUp) {
        TestCluster.await(() -> llmNodes.stream().allMatch(n -> n.activeSessions() == 0), Duration.ofSeconds(30),
                "every stage to release the session of the client that went away");
        System.out.printf("sessions released %.0f ms after the client hung up%n", (System.nanoTime() - hungUp) / 1e6);
    }
}
