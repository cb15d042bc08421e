package io.convllava.tests;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.convllava.common.client.RemotePipeline;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.SegmentCodec;
import io.convllava.common.transport.TensorCodec;
import io.convllava.common.transport.TransportOptions;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.EncodeRequest;
import io.convllava.proto.v1.ForwardBatchRequest;
import io.convllava.proto.v1.ForwardRequest;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.proto.v1.SamplingOptions;
import io.convllava.proto.v1.StageAddress;
import io.convllava.proto.v1.VisionNodeGrpc;
import io.convllava.vision.node.VisionNode;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutated protobuf messages to every service of a running cluster (coordinator, vision node, both llm nodes; real
 * gRPC): valid requests serialized, their bytes flipped, cut and overwritten, and sent whenever they still parse.
 * Fixed seed, bounded count. Every call ends with OK or a status that names the caller's fault or a limit, never
 * INTERNAL or UNKNOWN; no node dies; afterwards no session is left and the cluster answers as before.
 * {@code -Dconvllava.fuzz.count=N} runs longer.
 */
class ServiceFuzzTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final int COUNT = Integer.getInteger("convllava.fuzz.count", 120);
    /** Growth of memory outside the Java heap over the second half of the run that counts as a leak. */
    private static final long NATIVE_GROWTH_LIMIT = 128L << 20;
    private static final Set<Status.Code> FORBIDDEN = Set.of(Status.Code.INTERNAL, Status.Code.UNKNOWN,
            Status.Code.DATA_LOSS, Status.Code.UNIMPLEMENTED);

    @Test
    void mutatedMessagesToEveryServiceGetAClearStatus() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true); TestCluster cluster = new TestCluster(zookeeper)) {
            cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY));
            VisionNode vision = cluster.vision();
            LlmNode first = cluster.llm("0-2");
            LlmNode last = cluster.llm("2-4");
            cluster.awaitPipelines(1);
            byte[] image = Files.readAllBytes(TINY.image());
            GenerateRequest normal = Streams.request(TINY.question(0), image, 8, false);
            int[] reference = Streams.collect(cluster.client().generate(normal)).tokens();

            ManagedChannel toVision = Channels.forAddress(vision.address(), TransportOptions.DEFAULTS);
            ManagedChannel toFirst = Channels.forAddress(first.address(), TransportOptions.DEFAULTS);
            ManagedChannel toLast = Channels.forAddress(last.address(), TransportOptions.DEFAULTS);
            try {
                StageAddress lastStage = RemotePipeline.stage("llm-last", last.address(), 2, 4);
                ForwardRequest prompt = ForwardRequest.newBuilder().setSessionId("fuzz-0").setStep(0)
                        .setSegments(SegmentCodec.encode(List.of(new PromptSegment.Tokens(new int[]{1, 319, 13563}))))
                        .addRoute(lastStage).setSampling(SamplingOptions.newBuilder().setTemperature(1f).setSeed(3))
                        .setExpectedLayers(io.convllava.proto.v1.LayerRange.newBuilder().setStart(0).setEnd(2))
                        .setReservePositions(16).build();
                ForwardRequest hidden = ForwardRequest.newBuilder().setSessionId("fuzz-1")
                        .setHidden(TensorCodec.encode(HostTensor.of(new float[3 * 64], 3, 64))).build();
                SplittableRandom random = new SplittableRandom(20261130);
                Map<Status.Code, Integer> outcomes = new EnumMap<>(Status.Code.class);
                Set<String> sessions = new HashSet<>();
                List<String> failures = new ArrayList<>();
                long nativeAfterHalf = 0;
                for (int i = 0; i < COUNT; i++) {
                    if (i == COUNT / 2) {
                        nativeAfterHalf = outsideTheHeap();
                    }
                    GenerateRequest g = mutate(normal, GenerateRequest.parser(), random);
                    record(outcomes, failures, "Generate " + i, () -> Streams.collect(cluster.client()
                            .withDeadlineAfter(20, TimeUnit.SECONDS).generate(g)));
                    EncodeRequest e = mutate(EncodeRequest.newBuilder().setRequestId("fuzz")
                            .addImages(ByteString.copyFrom(image)).addImageNumbers(1).build(), EncodeRequest.parser(),
                            random);
                    record(outcomes, failures, "Encode " + i, () -> VisionNodeGrpc.newBlockingStub(toVision)
                            .withDeadlineAfter(20, TimeUnit.SECONDS).encode(e));
                    ForwardRequest f = mutate(prompt, ForwardRequest.parser(), random);
                    sessions.add(f.getSessionId());
                    record(outcomes, failures, "Forward(first) " + i, () -> LlmNodeGrpc.newBlockingStub(toFirst)
                            .withDeadlineAfter(20, TimeUnit.SECONDS).forward(f));
                    ForwardRequest h = mutate(hidden, ForwardRequest.parser(), random);
                    sessions.add(h.getSessionId());
                    ForwardBatchRequest batch = ForwardBatchRequest.newBuilder().addItems(h).build();
                    record(outcomes, failures, "ForwardBatch(last) " + i, () -> LlmNodeGrpc.newBlockingStub(toLast)
                            .withDeadlineAfter(20, TimeUnit.SECONDS).forwardBatch(batch));
                    ReleaseRequest r = mutate(ReleaseRequest.newBuilder().setSessionId("fuzz-0").addRoute(lastStage)
                            .build(), ReleaseRequest.parser(), random);
                    record(outcomes, failures, "Release " + i, () -> LlmNodeGrpc.newBlockingStub(toFirst)
                            .withDeadlineAfter(20, TimeUnit.SECONDS).release(r));
                    GetClusterStatusRequest s = mutate(GetClusterStatusRequest.getDefaultInstance(),
                            GetClusterStatusRequest.parser(), random);
                    record(outcomes, failures, "GetClusterStatus " + i, () -> cluster.client()
                            .withDeadlineAfter(20, TimeUnit.SECONDS).getClusterStatus(s));
                }
                long nativeGrowth = outsideTheHeap() - nativeAfterHalf;
                System.out.printf("service fuzz: %d rounds of 6 calls, outcomes %s; memory outside the Java heap grew"
                        + " by %d MB over the second half%n", COUNT, outcomes, nativeGrowth >> 20);
                assertEquals(List.of(), failures, "calls that ended with an internal error");
                assertTrue(nativeGrowth < NATIVE_GROWTH_LIMIT, "memory outside the heap (libtorch, buffers) grew by "
                        + (nativeGrowth >> 20) + " MB over the second half of the fuzz");

                for (String session : sessions) {
                    ReleaseRequest release = ReleaseRequest.newBuilder().setSessionId(session).addRoute(lastStage)
                            .build();
                    LlmNodeGrpc.newBlockingStub(toFirst).withDeadlineAfter(20, TimeUnit.SECONDS).release(release);
                    LlmNodeGrpc.newBlockingStub(toLast).withDeadlineAfter(20, TimeUnit.SECONDS)
                            .release(release.toBuilder().clearRoute().build());
                }
                TestCluster.await(() -> first.activeSessions() == 0 && last.activeSessions() == 0,
                        "no session left on the llm nodes");
                assertArrayEquals(reference, Streams.collect(cluster.client().generate(normal)).tokens(),
                        "the cluster answers as before");
            } finally {
                toVision.shutdownNow();
                toFirst.shutdownNow();
                toLast.shutdownNow();
            }
        }
    }

    /**
     * This process's resident memory less the Java heap it has committed, after a collection: libtorch's and the
     * transport's native memory, thread stacks, code (on Linux; 0 elsewhere). Measured once the cluster is warm, its
     * growth over more of the same calls shows a native leak.
     */
    private static long outsideTheHeap() {
        System.gc();
        try {
            for (String line : Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return (Long.parseLong(line.replaceAll("\\D", "")) << 10) - Runtime.getRuntime().totalMemory();
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // not Linux
        }
        return 0;
    }

    /** The message's bytes with a few random changes, parsed again; the message itself when they do not parse. */
    @SuppressWarnings("unchecked")
    private static <M extends Message> M mutate(M message, Parser<M> parser, SplittableRandom random) {
        for (int attempt = 0; attempt < 8; attempt++) {
            byte[] bytes = message.toByteArray();
            int changes = 1 + random.nextInt(4);
            for (int c = 0; c < changes && bytes.length > 0; c++) {
                int at = random.nextInt(bytes.length);
                switch (random.nextInt(4)) {
                    case 0 -> bytes[at] ^= (byte) (1 << random.nextInt(8));
                    case 1 -> bytes[at] = (byte) random.nextInt(256);
                    case 2 -> bytes = java.util.Arrays.copyOf(bytes, at);
                    default -> {
                        // a field value rewritten with an extreme varint
                        long[] extremes = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, Long.MAX_VALUE, 1L << 40};
                        byte[] varint = varint(extremes[random.nextInt(extremes.length)]);
                        byte[] grown = new byte[bytes.length + varint.length];
                        System.arraycopy(bytes, 0, grown, 0, at);
                        System.arraycopy(varint, 0, grown, at, varint.length);
                        System.arraycopy(bytes, at, grown, at + varint.length, bytes.length - at);
                        bytes = grown;
                    }
                }
            }
            try {
                return parser.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                // try another mutation
            }
        }
        return message;
    }

    private static byte[] varint(long value) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        long v = value;
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    private static void record(Map<Status.Code, Integer> outcomes, List<String> failures, String call,
                               Runnable send) {
        Status.Code code;
        String description = null;
        try {
            send.run();
            code = Status.Code.OK;
        } catch (StatusRuntimeException e) {
            code = e.getStatus().getCode();
            description = e.getStatus().getDescription();
        }
        outcomes.merge(code, 1, Integer::sum);
        if (FORBIDDEN.contains(code)) {
            failures.add(call + ": " + code + " " + description);
        }
    }
}
