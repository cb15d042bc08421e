package io.convllava.tests;

import com.google.protobuf.ByteString;
import io.convllava.cli.local.LocalEngine;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.testing.Fixtures;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.GenerationResult;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.generate.TokenListener;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A follow-up question about the same picture continues from the first turn's KV cache: the cluster reports the
 * reused positions (the image and the whole first exchange) and answers as a run without any reuse does; several
 * requests continuing the same conversation at once all reuse it.
 */
class PrefixReuseTest {

    @Test
    void aFollowUpQuestionContinuesFromTheFirstTurnsCache() throws Exception {
        Path model = Fixtures.shapesModel();
        ModelFiles files = ModelFiles.resolve(model.toString(), null, null);
        byte[] image = Files.readAllBytes(model.resolve("samples/sample-count-0.png"));
        String first = "How many shapes are there?";
        String second = "What shape is the red object?";
        try (TestingServer zookeeper = new TestingServer(true);
             TestCluster cluster = new TestCluster(zookeeper, files, "convllava-shapes")) {
            cluster.startTwoStagePipeline();

            Final turn1 = Streams.collect(cluster.client().generate(Streams.request(first, image, 40, false))).last();
            assertEquals(0, turn1.getUsage().getCachedPromptTokens(), "nothing to continue from yet");
            GenerateRequest followUp = GenerateRequest.newBuilder()
                    .addMessages(Message.newBuilder().setRole(Message.Role.USER).setText(first)
                            .addImages(Image.newBuilder().setData(ByteString.copyFrom(image))))
                    .addMessages(Message.newBuilder().setRole(Message.Role.ASSISTANT).setText(turn1.getText()))
                    .addMessages(Message.newBuilder().setRole(Message.Role.USER).setText(second))
                    .setMaxNewTokens(40).build();
            Final turn2 = Streams.collect(cluster.client().generate(followUp)).last();
            int cached = turn2.getUsage().getCachedPromptTokens();
            assertTrue(cached > turn1.getUsage().getPromptTokens(),
                    "the first prompt and its answer should be reused, got " + cached + " of "
                            + turn2.getUsage().getPromptTokens() + " positions");
            assertTrue(cached < turn2.getUsage().getPromptTokens());

            // the same follow-up from four users at once: each continues from its own copy of the kept cache
            ExecutorService users = Executors.newFixedThreadPool(4);
            try {
                List<Future<Final>> again = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    again.add(users.submit(() -> Streams.collect(cluster.client().generate(followUp)).last()));
                }
                for (Future<Final> answer : again) {
                    Final f = answer.get(60, TimeUnit.SECONDS);
                    assertEquals(turn2.getText(), f.getText());
                    assertTrue(f.getUsage().getCachedPromptTokens() >= cached,
                            "every concurrent request reuses the kept cache, got " + f.getUsage()
                                    .getCachedPromptTokens() + " positions");
                }
            } finally {
                users.shutdownNow();
            }

            GenerationResult fresh;
            try (LocalEngine engine = LocalEngine.load(files, "cpu", null)) {
                fresh = engine.generator().generate(new GenerationRequest(List.of(ChatMessage.user(first, 1),
                        ChatMessage.assistant(turn1.getText()), ChatMessage.user(second, 0)),
                        List.of(ImageInput.ofBytes(image)), ConversationTemplate.VICUNA_V1, SamplingParams.GREEDY, 40,
                        List.of(), false, false), TokenListener.NONE);
            }
            assertEquals(fresh.text(), turn2.getText(), "the answer must not depend on the reuse");
            assertEquals(0, fresh.cachedTokens());
        }
    }

    /**
     * Without prefix reuse a conversation has no cache to go back to, so repeating it goes to the least loaded
     * pipeline like any request (a pipeline that never serves stays cold, and is slow when failover needs it).
     */
    @Test
    void withoutReuseARepeatedConversationSpreadsOverThePipelines() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY),
                    config -> config.withPrefixReuse(false));
            LlmNode[] last = {cluster.llm("2-4"), cluster.llm("2-4")};
            cluster.llm("0-2");
            cluster.llm("0-2");
            cluster.awaitPipelines(2);
            GenerateRequest same = Streams.request("What is in the picture?", null, 4, false);
            for (int i = 0; i < 4; i++) {
                Final answer = Streams.collect(cluster.client().generate(same)).last();
                assertEquals(0, answer.getUsage().getCachedPromptTokens(), "nothing is reused");
            }
            assertTrue(last[0].steps() > 0 && last[1].steps() > 0,
                    "both pipelines served: " + last[0].steps() + " and " + last[1].steps() + " steps");
        }
    }
}
