package io.convllava.common.metrics;

import io.convllava.common.transport.BindFailure;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.Closeable;
import java.io.IOException;

/**
 * A node's Prometheus endpoint: {@code GET http://host:port/metrics} in the Prometheus text format (or OpenMetrics
 * or protobuf, as the scraper asks), with this process's metrics and the JVM's (heap, GC, threads).
 */
public final class MetricsEndpoint implements Closeable {
    private static boolean jvmRegistered;

    private final HTTPServer server;
    private final String host;

    private MetricsEndpoint(HTTPServer server, String host) {
        this.server = server;
        this.host = host;
    }

    /**
     * Serves the default registry on {@code host:port} (0 = any free port).
     *
     * @throws IOException saying which port could not be bound and why
     */
    public static MetricsEndpoint start(String host, int port) throws IOException {
        registerJvmMetrics();
        try {
            HTTPServer server = HTTPServer.builder().hostname(host).port(port)
                    .registry(PrometheusRegistry.defaultRegistry).buildAndStart();
            return new MetricsEndpoint(server, host);
        } catch (IOException e) {
            throw BindFailure.explain("metrics endpoint", host, port, e);
        }
    }

    private static synchronized void registerJvmMetrics() {
        if (!jvmRegistered) {
            JvmMetrics.builder().register(PrometheusRegistry.defaultRegistry);
            jvmRegistered = true;
        }
    }

    public int port() {
        return server.getPort();
    }

    /** {@code http://host:port/metrics}. */
    public String url() {
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/metrics";
    }

    @Override
    public void close() {
        server.close();
    }
}
