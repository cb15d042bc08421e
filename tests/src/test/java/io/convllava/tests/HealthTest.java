package io.convllava.tests;

import io.convllava.common.cluster.LayerRange;
import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.NodeRegistration;
import io.convllava.common.node.Membership;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.GrpcServer;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.server.CoordinatorServer;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.ForwardBatchRequest;
import io.convllava.proto.v1.ForwardBatchResponse;
import io.convllava.proto.v1.ForwardRequest;
import io.convllava.proto.v1.ForwardResponse;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.vision.node.VisionNode;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The health service tells the truth (issue 11): a coordinator is NOT_SERVING without a complete pipeline, while
 * ZooKeeper is away and while its canary generation fails; nodes are NOT_SERVING while ZooKeeper is away; all come
 * back when the cause goes. Liveness stays SERVING throughout: a node that is not ready is not dead.
 */
class HealthTest {
    private static final Duration FLIP = Duration.ofSeconds(30);

    @Test
    void followsThePipelineAndZooKeeper() throws Exception {
        try (TestingServer zkServer = new TestingServer(true);
             TestCluster cluster = new TestCluster(zkServer)) {
            CoordinatorServer coordinator = cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY));
            ManagedChannel toCoordinator = cluster.closeWithCluster(channel(coordinator.address()));
            assertEquals(ServingStatus.NOT_SERVING, status(toCoordinator, ""), "no llm node yet");
            assertEquals(ServingStatus.SERVING, status(toCoordinator, GrpcServer.LIVENESS));

            VisionNode vision = cluster.vision();
            LlmNode first = cluster.llm("0-2");
            LlmNode second = cluster.llm("2-4");
            ManagedChannel toVision = cluster.closeWithCluster(channel(vision.address()));
            ManagedChannel toFirst = cluster.closeWithCluster(channel(first.address()));
            awaitStatus(toCoordinator, "", ServingStatus.SERVING);
            assertEquals(ServingStatus.SERVING, status(toCoordinator, "convllava.v1.ConvLlava"));
            assertEquals(ServingStatus.SERVING, status(toFirst, "convllava.v1.LlmNode"));
            assertEquals(ServingStatus.SERVING, status(toVision, "convllava.v1.VisionNode"));

            second.close(); // the only pipeline loses a node
            awaitStatus(toCoordinator, "", ServingStatus.NOT_SERVING, "coordinator, the only pipeline lost a node");
            assertEquals(ServingStatus.SERVING, status(toCoordinator, GrpcServer.LIVENESS));
            cluster.llm("2-4");
            awaitStatus(toCoordinator, "", ServingStatus.SERVING, "coordinator, a new node ready");

            zkServer.stop(); // ZooKeeper goes away
            for (ManagedChannel member : List.of(toCoordinator, toVision, toFirst)) {
                awaitStatus(member, "", ServingStatus.NOT_SERVING, "ZooKeeper stopped (" + member.authority() + ")");
                assertEquals(ServingStatus.SERVING, status(member, GrpcServer.LIVENESS));
            }
            zkServer.restart();
            for (ManagedChannel member : List.of(toCoordinator, toVision, toFirst)) {
                awaitStatus(member, "", ServingStatus.SERVING, "ZooKeeper restarted (" + member.authority() + ")");
            }
        }
    }

    @Test
    void aFailingCanaryTurnsTheCoordinatorNotServing() throws Exception {
        try (TestingServer zkServer = new TestingServer(true);
             TestCluster cluster = new TestCluster(zkServer)) {
            CoordinatorServer coordinator = cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY),
                    config -> config.withCanaryInterval(Duration.ofMillis(300)));
            ManagedChannel toCoordinator = cluster.closeWithCluster(channel(coordinator.address()));
            cluster.llm("0-2");
            // a node that registers layers 2-4 and is alive, but whose every step fails: membership alone says
            // the pipeline is complete, only a real generation finds out
            GrpcServer broken = GrpcServer.start("broken-llm", TestCluster.HOST, 0, TransportOptions.DEFAULTS,
                    List.of(new FailingLlmNode()));
            NodeRegistration registration = Membership.register(cluster.zk(), cluster.layout(),
                    NodeInfo.llm("broken", TestCluster.HOST, broken.port(), "tiny-convllava", "cpu", 4, "2-4")
                            .withLayers(new LayerRange(2, 4)));
            cluster.awaitPipelines(1);
            awaitStatus(toCoordinator, "", ServingStatus.NOT_SERVING, "coordinator, a stage fails every step");

            registration.close();
            broken.close();
            cluster.llm("2-4"); // a working stage: the pipeline comes back and the canary passes at once
            awaitStatus(toCoordinator, "", ServingStatus.SERVING, "coordinator, a working stage ready");
        }
    }

    /** Answers every step INTERNAL, as a node with a broken accelerator would. */
    private static final class FailingLlmNode extends LlmNodeGrpc.LlmNodeImplBase {
        @Override
        public void forward(ForwardRequest request, StreamObserver<ForwardResponse> response) {
            response.onError(Status.INTERNAL.withDescription("simulated fault").asRuntimeException());
        }

        @Override
        public void forwardBatch(ForwardBatchRequest request, StreamObserver<ForwardBatchResponse> response) {
            response.onError(Status.INTERNAL.withDescription("simulated fault").asRuntimeException());
        }
    }

    private static ManagedChannel channel(String address) {
        return Channels.forAddress(address, TransportOptions.DEFAULTS);
    }

    private static ServingStatus status(ManagedChannel channel, String service) {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    private static void awaitStatus(ManagedChannel channel, String service, ServingStatus expected) {
        awaitStatus(channel, service, expected, null);
    }

    /** Waits for the status; with {@code event}, prints how long after it the status turned (docs/reliability.md). */
    private static void awaitStatus(ManagedChannel channel, String service, ServingStatus expected, String event) {
        long started = System.nanoTime();
        TestCluster.await(() -> status(channel, service) == expected, FLIP,
                "health '" + service + "' to turn " + expected);
        if (event != null) {
            System.out.printf("health: %s -> %s after %.0f ms%n", event, expected, (System.nanoTime() - started) / 1e6);
        }
    }
}
