package io.convllava.common.transport;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the calls a server has in flight: beyond {@code max}, a new call is refused at once with RESOURCE_EXHAUSTED
 * (health checks always pass), so that a flood of calls costs a refusal each instead of queued work and memory.
 * Each role bounds its real work further (sessions, queued generations, images).
 */
final class CallLimit implements ServerInterceptor {
    private final String server;
    private final int max;
    private final AtomicInteger inFlight = new AtomicInteger();

    CallLimit(String server, int max) {
        this.server = server;
        this.max = max;
    }

    int inFlight() {
        return inFlight.get();
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                      ServerCallHandler<Q, A> next) {
        if (call.getMethodDescriptor().getFullMethodName().equals(HealthGrpc.getCheckMethod().getFullMethodName())) {
            return next.startCall(call, headers);
        }
        if (inFlight.incrementAndGet() > max) {
            inFlight.decrementAndGet();
            call.close(Status.RESOURCE_EXHAUSTED.withDescription(server + " has " + max
                    + " calls in flight, its limit: retry in a moment"), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        AtomicBoolean ended = new AtomicBoolean();
        Runnable end = () -> {
            if (ended.compareAndSet(false, true)) {
                inFlight.decrementAndGet();
            }
        };
        ServerCall<Q, A> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                end.run();
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(counted, headers);
        } catch (RuntimeException e) {
            end.run();
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                end.run();
                super.onCancel();
            }

            @Override
            public void onComplete() {
                end.run();
                super.onComplete();
            }
        };
    }
}
