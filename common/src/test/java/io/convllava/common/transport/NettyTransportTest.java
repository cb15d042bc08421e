package io.convllava.common.transport;

import io.convllava.common.tensor.HostTensor;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.proto.v1.ReleaseResponse;
import io.convllava.proto.v1.Tensor;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Real Netty on 127.0.0.1: in-process transport neither serializes nor enforces size limits. */
class NettyTransportTest {
    private static final MethodDescriptor<Tensor, Tensor> ECHO = MethodDescriptor.<Tensor, Tensor>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("test.TensorEcho/Echo")
            .setRequestMarshaller(ProtoUtils.marshaller(Tensor.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(Tensor.getDefaultInstance()))
            .build();

    private GrpcServer server;
    private ManagedChannel channel;

    @AfterEach
    void tearDown() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void tensorLargerThanFourMebibytesCrossesTheWire() throws IOException {
        start(TransportOptions.DEFAULTS);
        // [2048, 1024] float32 = 8 MiB: a long prompt's hidden state at a stage boundary
        HostTensor big = ramp(2048, 1024);
        HostTensor back = TensorCodec.decode(echo(TensorCodec.encode(big), TransportOptions.DEFAULTS), "echo");
        assertArrayEquals(big.shape(), back.shape());
        assertArrayEquals(big.data(), back.data());
    }

    @Test
    void grpcDefaultLimitWouldRejectIt() throws IOException {
        TransportOptions small = TransportOptions.DEFAULTS.withMaxMessageBytes(4 << 20)
                .withCallDeadline(Duration.ofSeconds(5));
        start(small);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> echo(TensorCodec.encode(ramp(2048, 1024)), small));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    }

    @Test
    void stubsGetTheDefaultDeadline() throws IOException {
        TransportOptions quick = TransportOptions.DEFAULTS.withCallDeadline(Duration.ofMillis(200));
        start(quick, new LlmNodeGrpc.LlmNodeImplBase() {
            @Override
            public void release(ReleaseRequest request, StreamObserver<ReleaseResponse> response) {
                // never answers
            }
        });
        LlmNodeGrpc.LlmNodeBlockingStub stub = Channels.withDeadline(LlmNodeGrpc.newBlockingStub(channel), quick);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.release(ReleaseRequest.newBuilder().setSessionId("s").build()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    }

    @Test
    void serverReportsServingThroughTheHealthService() throws IOException {
        start(TransportOptions.DEFAULTS);
        HealthCheckResponse health = Channels.withDeadline(HealthGrpc.newBlockingStub(channel),
                TransportOptions.DEFAULTS).check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
    }

    private void start(TransportOptions options) throws IOException {
        start(options, ServerServiceDefinition.builder("test.TensorEcho")
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, response) -> {
                    response.onNext(request);
                    response.onCompleted();
                })).build());
    }

    private void start(TransportOptions options, ServerServiceDefinition service) throws IOException {
        start(options, () -> service);
    }

    private void start(TransportOptions options, BindableService service) throws IOException {
        server = GrpcServer.start("test", "127.0.0.1", 0, options, List.of(service));
        channel = Channels.forAddress(server.address(), options);
    }

    private Tensor echo(Tensor request, TransportOptions options) {
        CallOptions call = CallOptions.DEFAULT
                .withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS);
        return ClientCalls.blockingUnaryCall(channel, ECHO, call, request);
    }

    private static HostTensor ramp(int rows, int cols) {
        float[] data = new float[rows * cols];
        for (int i = 0; i < data.length; i++) {
            data[i] = i * 0.25f - 1000f;
        }
        return HostTensor.of(data, rows, cols);
    }
}
