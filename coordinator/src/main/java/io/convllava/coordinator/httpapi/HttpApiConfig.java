package io.convllava.coordinator.httpapi;

import io.convllava.coordinator.http.HttpServerOptions;

/**
 * The coordinator's HTTP API.
 *
 * @param port           0 = any free port
 * @param allowImageUrls whether {@code image_url} may name http(s) URLs that the coordinator downloads (off: data URLs
 *                       only; on, callers can make the coordinator fetch any address it reaches)
 * @param server         the HTTP server's bounds
 */
public record HttpApiConfig(int port, boolean allowImageUrls, HttpServerOptions server) {

    public HttpApiConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("the HTTP port must be between 0 and 65535, got " + port);
        }
    }

    /** Data URLs only, the default bounds. */
    public static HttpApiConfig onPort(int port) {
        return new HttpApiConfig(port, false, HttpServerOptions.DEFAULTS);
    }

    public HttpApiConfig withImageUrls(boolean allowed) {
        return new HttpApiConfig(port, allowed, server);
    }

    public HttpApiConfig withServer(HttpServerOptions options) {
        return new HttpApiConfig(port, allowImageUrls, options);
    }
}
