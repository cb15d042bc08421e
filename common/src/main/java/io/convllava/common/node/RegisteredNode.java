package io.convllava.common.node;

import io.convllava.common.cluster.NodeRegistration;
import io.convllava.common.transport.NodeServer;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;

/**
 * A node serving over gRPC and registered in ZooKeeper, republishing its load every second while up, NOT_SERVING
 * while its ZooKeeper connection is down ({@link ZooKeeperReadiness}). Closing
 * (once) leaves the cluster first, so no new calls get routed here, then stops serving, then frees what the node
 * itself holds ({@link #afterStop()}).
 */
public abstract class RegisteredNode<S extends NodeServer> implements AutoCloseable {
    protected final S server;
    private final NodeRegistration registration;
    private final LoadReporter loadReporter;
    private final ZooKeeperReadiness zooKeeper;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** @param load the requests or sessions in progress, which coordinators route by */
    protected RegisteredNode(S server, NodeRegistration registration, IntSupplier load) {
        this.server = server;
        this.registration = registration;
        this.loadReporter = new LoadReporter(registration, load);
        this.zooKeeper = new ZooKeeperReadiness(registration.client(), server.readiness()).start();
    }

    public String nodeId() {
        return registration.info().nodeId();
    }

    public String address() {
        return server.address();
    }

    public void blockUntilShutdown() throws InterruptedException {
        server.blockUntilShutdown();
    }

    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            Closing.inOrder(zooKeeper, loadReporter, registration, server);
            afterStop();
        }
    }

    /** Frees what the node holds besides its server and registration; called once both are closed. */
    protected abstract void afterStop();
}
