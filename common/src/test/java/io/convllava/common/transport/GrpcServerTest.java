package io.convllava.common.transport;

import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.proto.v1.ReleaseResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real Netty on 127.0.0.1: listening before the services exist, and a busy port said plainly. */
class GrpcServerTest {
    private static final ReleaseRequest RELEASE = ReleaseRequest.newBuilder().setSessionId("s").build();

    @Test
    void aBusyPortIsSaidToBeInUse() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            IOException e = assertThrows(IOException.class,
                    () -> GrpcServer.bind("vision-node", "127.0.0.1", port, TransportOptions.DEFAULTS));
            assertEquals("vision-node: port " + port + " on 127.0.0.1 is already in use (another process listens"
                    + " there): stop it or pick another --port", e.getMessage());
        }
    }

    @Test
    void anAddressOfAnotherMachineIsSaidToBeOne() {
        // TEST-NET-1 (RFC 5737): never an address of this machine
        IOException e = assertThrows(IOException.class,
                () -> GrpcServer.bind("coordinator", "192.0.2.1", 0, TransportOptions.DEFAULTS));
        assertTrue(e.getMessage().startsWith("coordinator: cannot listen on port 0 on 192.0.2.1: 192.0.2.1 is not an"
                + " address of this machine"), e.getMessage());

        e = assertThrows(IOException.class,
                () -> GrpcServer.bind("coordinator", "no-such-host.invalid", 0, TransportOptions.DEFAULTS));
        assertTrue(e.getMessage().startsWith("coordinator: cannot listen on port 0 on no-such-host.invalid:"
                + " no-such-host.invalid is not an address of this machine"), e.getMessage());
    }

    private static final HealthCheckRequest LIVENESS =
            HealthCheckRequest.newBuilder().setService(GrpcServer.LIVENESS).build();

    @Test
    void aBoundServerAnswersUnavailableUntilItServes() throws IOException {
        try (GrpcServer server = GrpcServer.bind("llm-node", "127.0.0.1", 0, TransportOptions.DEFAULTS)) {
            ManagedChannel channel = Channels.forAddress(server.address(), TransportOptions.DEFAULTS);
            try {
                HealthGrpc.HealthBlockingStub health = Channels.withDeadline(HealthGrpc.newBlockingStub(channel),
                        TransportOptions.DEFAULTS);
                LlmNodeGrpc.LlmNodeBlockingStub node = Channels.withDeadline(LlmNodeGrpc.newBlockingStub(channel),
                        TransportOptions.DEFAULTS);
                assertEquals(ServingStatus.NOT_SERVING,
                        health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
                assertEquals(ServingStatus.SERVING, health.check(LIVENESS).getStatus(), "alive while it loads");
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> node.release(RELEASE));
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().startsWith("llm-node is starting"),
                        e.getStatus().getDescription());

                server.serve(List.of(new LlmNodeGrpc.LlmNodeImplBase() {
                    @Override
                    public void release(ReleaseRequest request, StreamObserver<ReleaseResponse> response) {
                        response.onNext(ReleaseResponse.getDefaultInstance());
                        response.onCompleted();
                    }
                }));
                assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
                assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.newBuilder()
                        .setService("convllava.v1.LlmNode").build()).getStatus(), "each service has a status");

                server.readiness().set("zookeeper", false, "ZooKeeper connection suspended");
                assertEquals(ServingStatus.NOT_SERVING,
                        health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
                assertEquals(ServingStatus.SERVING, health.check(LIVENESS).getStatus());
                assertEquals(List.of("ZooKeeper connection suspended"), server.readiness().reasons());
                server.readiness().set("zookeeper", true, null);
                assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
                assertEquals(ReleaseResponse.getDefaultInstance(), node.release(RELEASE));
                StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                        () -> node.forward(io.convllava.proto.v1.ForwardRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNIMPLEMENTED, unknown.getStatus().getCode());
            } finally {
                channel.shutdownNow();
            }
        }
    }
}
