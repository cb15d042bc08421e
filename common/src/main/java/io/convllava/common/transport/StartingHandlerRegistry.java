package io.convllava.common.transport;

import io.grpc.BindableService;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;

import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The services of a server that listens before they exist (while its model loads): every call is answered
 * UNAVAILABLE with {@code startingMessage} until {@link #install} hands them over, then routed to them.
 */
final class StartingHandlerRegistry extends HandlerRegistry {
    private static final MethodDescriptor.Marshaller<InputStream> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InputStream value) {
            return value;
        }

        @Override
        public InputStream parse(InputStream stream) {
            return stream;
        }
    };

    private final String startingMessage;
    /** Null until the services are installed. */
    private volatile Map<String, ServerMethodDefinition<?, ?>> methods;
    private volatile List<ServerServiceDefinition> services = List.of();

    StartingHandlerRegistry(String startingMessage) {
        this.startingMessage = startingMessage;
    }

    void install(List<BindableService> bindable) {
        if (methods != null) {
            throw new IllegalStateException("the services are already installed");
        }
        List<ServerServiceDefinition> definitions = bindable.stream().map(BindableService::bindService).toList();
        Map<String, ServerMethodDefinition<?, ?>> byName = new HashMap<>();
        for (ServerServiceDefinition service : definitions) {
            for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
                byName.put(method.getMethodDescriptor().getFullMethodName(), method);
            }
        }
        services = definitions;
        methods = byName;
    }

    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
        Map<String, ServerMethodDefinition<?, ?>> installed = methods;
        return installed != null ? installed.get(methodName) : starting(methodName);
    }

    /** The full names of the installed services (none before {@link #install}). */
    List<String> serviceNames() {
        return services.stream().map(d -> d.getServiceDescriptor().getName()).toList();
    }

    @Override
    public List<ServerServiceDefinition> getServices() {
        return services;
    }

    private ServerMethodDefinition<InputStream, InputStream> starting(String methodName) {
        MethodDescriptor<InputStream, InputStream> method = MethodDescriptor.<InputStream, InputStream>newBuilder()
                .setType(MethodDescriptor.MethodType.UNKNOWN)
                .setFullMethodName(methodName)
                .setRequestMarshaller(RAW)
                .setResponseMarshaller(RAW)
                .build();
        return ServerMethodDefinition.create(method, (call, headers) -> {
            call.close(Status.UNAVAILABLE.withDescription(startingMessage), new Metadata());
            return new ServerCall.Listener<>() {
            };
        });
    }
}
