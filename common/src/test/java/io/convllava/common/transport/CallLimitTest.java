package io.convllava.common.transport;

import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.proto.v1.ReleaseResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Calls beyond the limit are refused at once over real Netty; a finished call frees its place. */
class CallLimitTest {

    @Test
    void callsBeyondTheLimitAreResourceExhaustedUntilOneEnds() throws Exception {
        CountDownLatch arrived = new CountDownLatch(2);
        CountDownLatch proceed = new CountDownLatch(1);
        LlmNodeGrpc.LlmNodeImplBase slow = new LlmNodeGrpc.LlmNodeImplBase() {
            @Override
            public void release(ReleaseRequest request, StreamObserver<ReleaseResponse> response) {
                arrived.countDown();
                try {
                    proceed.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                response.onNext(ReleaseResponse.newBuilder().setReleasedStages(1).build());
                response.onCompleted();
            }
        };
        CallLimit limit = new CallLimit("test server", 2);
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(slow)
                .intercept(limit).build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            LlmNodeGrpc.LlmNodeFutureStub async = LlmNodeGrpc.newFutureStub(channel);
            var first = async.release(ReleaseRequest.getDefaultInstance());
            var second = async.release(ReleaseRequest.getDefaultInstance());
            assertTrue(arrived.await(10, TimeUnit.SECONDS), "two calls in flight");

            LlmNodeGrpc.LlmNodeBlockingStub blocking = LlmNodeGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(5, TimeUnit.SECONDS);
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                    () -> blocking.release(ReleaseRequest.getDefaultInstance()));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
            assertTrue(refused.getStatus().getDescription().contains("test server has 2 calls in flight"));

            proceed.countDown();
            assertEquals(1, first.get(10, TimeUnit.SECONDS).getReleasedStages());
            assertEquals(1, second.get(10, TimeUnit.SECONDS).getReleasedStages());
            assertEquals(1, blocking.release(ReleaseRequest.getDefaultInstance()).getReleasedStages());
            assertEquals(0, limit.inFlight());
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
        }
    }
}
