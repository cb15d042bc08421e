package io.convllava.llm.model;

import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sessions on one shard: independence, release, KV cache growth and limits, input checks (tiny fixture). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaShardSessionTest {
    private static final int STEPS = 12;

    private DecoderFixture fixture;
    private ShardPipeline whole;
    private ShardPipeline split;

    @BeforeAll
    void load() {
        fixture = DecoderFixture.tiny();
        try (TensorSource weights = fixture.files().openLlmWeights()) {
            whole = ShardPipeline.whole(fixture.files().llmConfig(), weights);
            split = ShardPipeline.load(fixture.files().llmConfig(), weights, new int[] {0, 2, 4});
        }
    }

    @AfterAll
    void close() {
        whole.close();
        split.close();
    }

    private LlamaShard shard() {
        return whole.shards().get(0);
    }

    private ReferenceCase imageCase() {
        return fixture.cases().get(0);
    }

    private ReferenceCase textCase() {
        return fixture.cases().get(1);
    }

    @Test
    void releaseFreesTheSessionAndItsMemory() {
        LlamaShard shard = shard();
        assertEquals(0, shard.cacheBytes());
        whole.forward("a", imageCase().prompt());
        whole.forward("b", textCase().prompt());
        assertEquals(2, shard.activeSessions());
        assertEquals(imageCase().sequenceLength(), shard.sessionLength("a"));
        long twoSessions = shard.cacheBytes();
        assertTrue(twoSessions > 0, "caches hold memory");

        shard.release("a");
        assertEquals(1, shard.activeSessions());
        assertEquals(0, shard.sessionLength("a"));
        assertTrue(shard.cacheBytes() < twoSessions);
        shard.release("b");
        shard.release("never-started");
        assertEquals(0, shard.activeSessions());
        assertEquals(0, shard.cacheBytes(), "nothing but the weights is left");
    }

    @Test
    void decodeStepsGrowTheCacheByWholeBlocksOnly() {
        LlamaShard shard = shard();
        whole.forward("steps", textCase().prompt());
        long afterPrefill = shard.cacheBytes();
        long perPosition = afterPrefill / roundUpToBlock(textCase().sequenceLength());
        for (int i = 0; i < 30; i++) {
            whole.forwardToken("steps", 100 + i);
            int length = shard.sessionLength("steps");
            assertEquals(perPosition * roundUpToBlock(length), shard.cacheBytes(), "bytes after step " + i);
        }
        assertEquals(textCase().sequenceLength() + 30, shard.sessionLength("steps"));
        whole.release("steps");
    }

    private static int roundUpToBlock(int positions) {
        int block = io.convllava.llm.cpu.CpuDecoder.KV_BLOCK;
        return (positions + block - 1) / block * block;
    }

    @Test
    void releasedSessionIdStartsOver() {
        float[] first = whole.forward("again", textCase().prompt());
        whole.release("again");
        assertArrayEquals(first, whole.forward("again", textCase().prompt()));
        whole.release("again");
    }

    @Test
    void interleavedSessionsMatchSequentialOnes() {
        List<ReferenceCase> cases = fixture.cases();
        List<float[][]> sequential = new ArrayList<>();
        for (ReferenceCase c : cases) {
            sequential.add(stepLogits(split, "seq-" + c.index(), c));
            split.release("seq-" + c.index());
        }
        float[][][] interleaved = new float[cases.size()][STEPS][];
        for (ReferenceCase c : cases) {
            interleaved[c.index()][0] = split.forward("mix-" + c.index(), c.prompt());
        }
        for (int step = 1; step < STEPS; step++) {
            for (ReferenceCase c : cases) {
                int token = ShardPipeline.argMax(interleaved[c.index()][step - 1]);
                interleaved[c.index()][step] = split.forwardToken("mix-" + c.index(), token);
            }
        }
        for (ReferenceCase c : cases) {
            split.release("mix-" + c.index());
            for (int step = 0; step < STEPS; step++) {
                assertArrayEquals(sequential.get(c.index())[step], interleaved[c.index()][step],
                        c + " step " + step);
            }
        }
    }

    @Test
    void concurrentSessionsOnSeveralThreadsMatchSequentialOnes() throws Exception {
        List<ReferenceCase> cases = fixture.cases();
        int[][] expected = new int[cases.size()][];
        for (ReferenceCase c : cases) {
            expected[c.index()] = whole.greedy("alone-" + c.index(), c.prompt(), STEPS);
            whole.release("alone-" + c.index());
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<int[]>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                ReferenceCase c = cases.get(i % cases.size());
                String session = "thread-" + i;
                futures.add(pool.submit(() -> {
                    int[] tokens = whole.greedy(session, c.prompt(), STEPS);
                    whole.release(session);
                    return tokens;
                }));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertArrayEquals(expected[i % cases.size()], futures.get(i).get(), "session thread-" + i);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, shard().activeSessions());
    }

    @Test
    void chunkedAndTokenByTokenPrefillsMatchOneShot() {
        ReferenceCase c = textCase();
        int[] ids = ((PromptSegment.Tokens) c.prompt().get(0)).ids();
        float[] chunked = null;
        for (int from = 0; from < ids.length; from += 7) { // chunks after the first attend to cached positions
            int[] chunk = Arrays.copyOfRange(ids, from, Math.min(ids.length, from + 7));
            chunked = whole.forward("chunked", List.of(new PromptSegment.Tokens(chunk)));
        }
        float[] single = null;
        for (int id : ids) {
            single = whole.forwardToken("single", id);
        }
        whole.release("chunked");
        whole.release("single");
        float diffChunked = ShardPipeline.maxAbsDiff(c.prefillLogits(), chunked);
        float diffSingle = ShardPipeline.maxAbsDiff(c.prefillLogits(), single);
        assertTrue(diffChunked <= 1e-3f, "chunked prefill max |diff| " + diffChunked);
        assertTrue(diffSingle <= 1e-3f, "token-by-token prefill max |diff| " + diffSingle);
    }

    @Test
    void contextBeyondMaxPositionEmbeddingsIsRejected() {
        ReferenceCase c = textCase();
        int limit = c.sequenceLength() + 4;
        LlmConfig small = withMaxPositions(fixture.files().llmConfig(), limit);
        try (TensorSource weights = fixture.files().openLlmWeights();
             LlamaShard shard = LlamaShard.load(small, weights, 0, small.numHiddenLayers(), "cpu",
                     LoadProgress.silent())) {
            shard.forward("s", new ShardInput.Segments(c.prompt()));
            ShardInput fiveTokens = new ShardInput.Segments(List.of(new PromptSegment.Tokens(new int[] {1, 2, 3, 4, 5})));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> shard.forward("s", fiveTokens));
            assertTrue(e.getMessage().contains("max_position_embeddings " + limit), e.getMessage());
            assertEquals(c.sequenceLength(), shard.sessionLength("s"), "a rejected call changes nothing");
            shard.forward("s", new ShardInput.Segments(List.of(new PromptSegment.Tokens(new int[] {1, 2, 3, 4}))));
            assertEquals(limit, shard.sessionLength("s"));
            IllegalArgumentException fresh = assertThrows(IllegalArgumentException.class, () ->
                    shard.forward("t", new ShardInput.Segments(List.of(new PromptSegment.Tokens(new int[limit + 1])))));
            assertTrue(fresh.getMessage().contains("session 't'"), fresh.getMessage());
            assertEquals(1, shard.activeSessions(), "a rejected first call creates no session");
        }
    }

    @Test
    void inputsOfTheWrongKindOrShapeAreRejected() {
        LlamaShard first = split.shards().get(0);
        LlamaShard last = split.shards().get(1);
        int hidden = fixture.files().llmConfig().hiddenSize();
        ShardInput hiddenInput = new ShardInput.Hidden(HostTensor.of(new float[3 * hidden], 3, hidden));
        assertThrows(IllegalArgumentException.class, () -> first.forward("x", hiddenInput));
        assertThrows(IllegalArgumentException.class, () -> last.forward("x", new ShardInput.Segments(textCase().prompt())));
        ShardInput narrow = new ShardInput.Hidden(HostTensor.of(new float[3 * (hidden - 1)], 3, hidden - 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> last.forward("x", narrow));
        assertTrue(e.getMessage().contains("[T, " + hidden + "]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () ->
                first.forward("x", new ShardInput.Segments(List.of(new PromptSegment.Tokens(new int[] {32000})))));
        assertThrows(IllegalArgumentException.class, () -> first.forward("x", new ShardInput.Segments(List.of())));
        assertEquals(0, first.activeSessions());
        assertEquals(0, last.activeSessions());
    }

    @Test
    void layerRangesOutsideTheModelAreRejected() {
        LlmConfig cfg = fixture.files().llmConfig();
        try (TensorSource weights = fixture.files().openLlmWeights()) {
            assertThrows(IllegalArgumentException.class, () -> LlamaShard.load(cfg, weights, 2, 2, "cpu"));
            assertThrows(IllegalArgumentException.class, () -> LlamaShard.load(cfg, weights, 0, 5, "cpu"));
            assertThrows(IllegalArgumentException.class, () -> LlamaShard.load(cfg, weights, 0, 4, "tpu"));
        }
    }

    /** Logits of the prefill and each greedy decode step. */
    private static float[][] stepLogits(ShardPipeline pipeline, String session, ReferenceCase c) {
        float[][] logits = new float[STEPS][];
        logits[0] = pipeline.forward(session, c.prompt());
        for (int step = 1; step < STEPS; step++) {
            logits[step] = pipeline.forwardToken(session, ShardPipeline.argMax(logits[step - 1]));
        }
        return logits;
    }

    static LlmConfig withMaxPositions(LlmConfig c, int maxPositions) {
        return new LlmConfig(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.numKeyValueHeads(), maxPositions, c.rmsNormEps(), c.ropeTheta(),
                c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenId(), c.padTokenId(), c.torchDtype(),
                c.mmVisionTower(), c.mmHiddenSize(), c.mmProjectorType(), c.mmVisionSelectLayer(),
                c.imageAspectRatio(), c.mmUseImStartEnd(), c.tokenizerModelMaxLength());
    }
}
