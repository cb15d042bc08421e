package io.convllava.coordinator.httpapi;

import io.convllava.common.transport.BearerTokens;
import io.convllava.common.transport.TlsConfig;
import io.convllava.coordinator.http.HttpRoutes;
import io.convllava.coordinator.http.HttpServer;
import io.convllava.coordinator.web.WebPages;
import io.convllava.proto.v1.ModelInfo;
import io.grpc.ServerServiceDefinition;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * The coordinator's OpenAI-compatible HTTP API: {@code POST /v1/chat/completions} (streamed or whole),
 * {@code GET /v1/models}, {@code GET /v1/models/<id>} and {@code GET /v1/cluster}, every route guarded by the same
 * bearer tokens as the gRPC API and answered through the public gRPC service in process; beside it, the web chat and
 * cluster pages that call it ({@link WebPages}, public). HTTPS with the coordinator's certificate when it has TLS.
 */
public final class HttpApi implements AutoCloseable {
    private final HttpServer server;
    private final HttpApiConfig config;
    private InProcessApi api;

    private HttpApi(HttpServer server, HttpApiConfig config) {
        this.server = server;
        this.config = config;
    }

    /**
     * Takes the port ({@code --http-port}) at once, answering 503 until {@link #serve}.
     *
     * @param tls the coordinator's TLS (its certificate and key serve HTTPS); null = plain HTTP
     */
    public static HttpApi bind(String host, HttpApiConfig config, TlsConfig tls) throws IOException {
        return new HttpApi(HttpServer.bind("http-api", host, config.port(), "--http-port", config.server(),
                tls == null ? null : serverContext(tls)), config);
    }

    /**
     * Starts answering through {@code service}.
     *
     * @param service the public gRPC service as the coordinator's port serves it (token interceptor included)
     * @param model   the served model, named in every completion
     * @param tokens  the bearer tokens (checked before a body is read); null = none
     * @param threads generations that may run and wait at once
     * @param totals  the coordinator's request totals so far, reported by {@code GET /v1/cluster}
     */
    public HttpApi serve(ServerServiceDefinition service, ModelInfo model, BearerTokens tokens, int threads,
                         Supplier<RequestTotals> totals) throws IOException {
        api = InProcessApi.start(service, threads);
        ImageSources images = new ImageSources(config.allowImageUrls() ? ImageFetcher.DEFAULTS : null);
        ModelsRoute models = new ModelsRoute(api, Instant.now().getEpochSecond());
        server.serve(new WebPages().addTo(new HttpRoutes(tokens))
                .add(HttpMethod.POST, "/v1/chat/completions",
                        new ChatCompletionsRoute(api, new ChatRequestReader(images, model.getMaxSequenceLength()),
                                model.getId()))
                .add(HttpMethod.GET, "/v1/models", models::list)
                .add(HttpMethod.GET, "/v1/models/*", models::retrieve)
                .add(HttpMethod.GET, "/v1/cluster", new ClusterStatusRoute(api, totals)));
        return this;
    }

    /** {@code http(s)://host:port}; the API is under {@code /v1}. */
    public String url() {
        return server.url();
    }

    public int port() {
        return server.port();
    }

    /** Finishes the answers in progress (up to the server's grace), then stops. */
    @Override
    public void close() {
        server.close();
        if (api != null) {
            api.close();
        }
    }

    private static SslContext serverContext(TlsConfig tls) {
        try {
            return SslContextBuilder.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile()).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot serve HTTPS with certificate " + tls.certificateChain()
                    + " and key " + tls.privateKey() + ": " + e.getMessage(), e);
        }
    }
}
