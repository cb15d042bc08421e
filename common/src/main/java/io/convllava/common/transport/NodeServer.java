package io.convllava.common.transport;

/**
 * A node's running {@link GrpcServer} together with what its services use: closing stops serving first, then
 * frees those resources ({@link #afterStop()}), so no call still running can touch a freed one.
 */
public abstract class NodeServer implements AutoCloseable {
    private final GrpcServer server;

    protected NodeServer(GrpcServer server) {
        this.server = server;
    }

    /** The bound port (the real one when started with port 0). */
    public final int port() {
        return server.port();
    }

    /** What its health service reports. */
    public final Readiness readiness() {
        return server.readiness();
    }

    /** {@code host:port} to dial. */
    public final String address() {
        return server.address();
    }

    /** Stops serving when the JVM exits. */
    public NodeServer stopOnJvmShutdown() {
        server.stopOnJvmShutdown();
        return this;
    }

    public final void blockUntilShutdown() throws InterruptedException {
        server.blockUntilShutdown();
    }

    /** Stops serving, then runs {@link #afterStop()}. */
    @Override
    public final void close() {
        server.close();
        afterStop();
    }

    /** Frees what the services used; called once the server has stopped. */
    protected abstract void afterStop();
}
