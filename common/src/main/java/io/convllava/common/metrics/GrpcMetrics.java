package io.convllava.common.metrics;

import com.google.protobuf.MessageLite;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;

/**
 * Calls as Prometheus sees them: every call a server handled, by method and status code (errors by code), with its
 * duration; and every call this process made to another node (a hop of a request through the cluster), by method
 * and peer, with its duration and the protobuf bytes it carried each way.
 */
public final class GrpcMetrics {
    static final Counter HANDLED = Counter.builder().name("convllava_grpc_server_handled_total").withoutExemplars()
            .help("gRPC calls this node answered, by method and status code")
            .labelNames("method", "code").register();
    static final Histogram HANDLING = Histogram.builder().name("convllava_grpc_server_handling_seconds")
            .withoutExemplars()
            .help("Time from a call's arrival to its status, by method").labelNames("method")
            .classicOnly().classicUpperBounds(Buckets.LATENCY_SECONDS).register();
    static final Histogram HOP = Histogram.builder().name("convllava_hop_seconds").withoutExemplars()
            .help("Calls this node made to other nodes, from start to status, by method and peer")
            .labelNames("method", "peer").classicOnly().classicUpperBounds(Buckets.LATENCY_SECONDS).register();
    static final Counter HOP_CALLS = Counter.builder().name("convllava_hop_calls_total").withoutExemplars()
            .help("Calls this node made to other nodes, by method, peer and status code")
            .labelNames("method", "peer", "code").register();
    static final Counter HOP_BYTES = Counter.builder().name("convllava_hop_bytes_total").withoutExemplars()
            .help("Protobuf bytes of the messages of calls to other nodes, by method, peer and direction (sent or"
                    + " received)")
            .labelNames("method", "peer", "direction").register();

    private GrpcMetrics() {
    }

    /** Counts and times every call a server answers. */
    public static ServerInterceptor server() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                              ServerCallHandler<Q, R> next) {
                String method = call.getMethodDescriptor().getFullMethodName();
                long started = System.nanoTime();
                ServerCall<Q, R> timed = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        HANDLED.labelValues(method, status.getCode().name()).inc();
                        HANDLING.labelValues(method).observe((System.nanoTime() - started) / 1e9);
                        super.close(status, trailers);
                    }
                };
                return next.startCall(timed, headers);
            }
        };
    }

    /** Counts, times and weighs every call made through a channel (to another node). */
    public static ClientInterceptor client() {
        return new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> methodDescriptor,
                                                         CallOptions options, Channel next) {
                String method = methodDescriptor.getFullMethodName();
                String peer = next.authority();
                // looked up once per call, not per message: a decode step sends one message per hop
                CounterDataPoint sent = HOP_BYTES.labelValues(method, peer, "sent");
                CounterDataPoint received = HOP_BYTES.labelValues(method, peer, "received");
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(methodDescriptor, options)) {
                    private final long started = System.nanoTime();

                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                            @Override
                            public void onMessage(R message) {
                                received.inc(size(message));
                                super.onMessage(message);
                            }

                            @Override
                            public void onClose(Status status, Metadata trailers) {
                                HOP_CALLS.labelValues(method, peer, status.getCode().name()).inc();
                                HOP.labelValues(method, peer).observe((System.nanoTime() - started) / 1e9);
                                super.onClose(status, trailers);
                            }
                        }, headers);
                    }

                    @Override
                    public void sendMessage(Q message) {
                        sent.inc(size(message));
                        super.sendMessage(message);
                    }
                };
            }
        };
    }

    /** A protobuf message's encoded size (memoised by protobuf, so this does not encode it again). */
    private static long size(Object message) {
        return message instanceof MessageLite m ? m.getSerializedSize() : 0;
    }
}
