package io.convllava.common.transport;

import io.convllava.proto.v1.LlmNodeGrpc;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChannelsTest {

    @Test
    void aRequestsOwnDeadlineGovernsTheCallsMadeForItElseTheOptionsOne() throws Exception {
        TransportOptions options = TransportOptions.DEFAULTS.withCallDeadline(Duration.ofSeconds(7));
        ManagedChannel channel = Channels.forAddress("127.0.0.1:1", options);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
            LlmNodeGrpc.LlmNodeBlockingStub stub = LlmNodeGrpc.newBlockingStub(channel);
            Deadline own = Channels.withDeadline(stub, options).getCallOptions().getDeadline();
            assertTrue(own.timeRemaining(TimeUnit.MILLISECONDS) > 6_000
                    && own.timeRemaining(TimeUnit.MILLISECONDS) <= 7_000, own.toString());

            Context.CancellableContext request = Context.current()
                    .withDeadlineAfter(3600, TimeUnit.SECONDS, timer);
            try {
                LlmNodeGrpc.LlmNodeBlockingStub inRequest = request.call(() -> Channels.withDeadline(stub, options));
                assertNull(inRequest.getCallOptions().getDeadline(), "the request's hour applies, not 7 s");
                assertEquals(stub.getCallOptions().getDeadline(), inRequest.getCallOptions().getDeadline());
            } finally {
                request.cancel(null);
            }
        } finally {
            channel.shutdownNow();
            timer.shutdownNow();
        }
    }
}
