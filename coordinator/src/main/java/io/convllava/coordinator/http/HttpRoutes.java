package io.convllava.coordinator.http;

import io.convllava.common.transport.BearerTokens;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What the HTTP server answers: routes by method and path, each either exact ({@code /v1/models}) or a prefix
 * ({@code /v1/models/*}: the path and everything below it). A route guarded by the server's bearer tokens (the
 * default) refuses a request without an accepted {@code Authorization: Bearer <token>} with 401 before its body is
 * read; a public route (e.g. static pages) takes any caller.
 */
public final class HttpRoutes {
    /** One route; {@code guarded}: whether it needs a bearer token (when the server has tokens at all). */
    public record Route(HttpMethod method, String path, boolean guarded, HttpHandler handler) {
        boolean isPrefix() {
            return path.endsWith("/*");
        }

        boolean matches(String requestPath) {
            if (!isPrefix()) {
                return path.equals(requestPath);
            }
            String base = path.substring(0, path.length() - 2);
            return requestPath.equals(base) || requestPath.startsWith(base + "/");
        }
    }

    private final BearerTokens tokens;
    private final List<Route> routes = new ArrayList<>();

    /** @param tokens the bearer tokens guarded routes require; null = every route is open (development only) */
    public HttpRoutes(BearerTokens tokens) {
        this.tokens = tokens;
    }

    /** A route that needs a bearer token; {@code path} ending in {@code /*} is a prefix. */
    public HttpRoutes add(HttpMethod method, String path, HttpHandler handler) {
        return add(new Route(method, path, true, handler));
    }

    /** A route any caller may use, token or not. */
    public HttpRoutes addPublic(HttpMethod method, String path, HttpHandler handler) {
        return add(new Route(method, path, false, handler));
    }

    private HttpRoutes add(Route route) {
        if (!route.path().startsWith("/")) {
            throw new IllegalArgumentException("a route's path starts with '/', got '" + route.path() + "'");
        }
        routes.add(route);
        return this;
    }

    /**
     * The route for a request, checked before its body is read: 404 when no route has the path, 405 (with the
     * methods that it takes in {@code Allow}) when none takes the method, 401 when the route is guarded and the
     * {@code authorization} header (null when absent) carries no accepted token. Exact paths win over prefixes, longer
     * prefixes over shorter ones.
     */
    public Route resolve(HttpMethod method, String path, String authorization) {
        List<Route> matching = routes.stream().filter(r -> r.matches(path))
                .sorted((a, b) -> a.isPrefix() != b.isPrefix() ? (a.isPrefix() ? 1 : -1)
                        : b.path().length() - a.path().length())
                .toList();
        if (matching.isEmpty()) {
            throw HttpError.notFound("no route " + path + " here: the API is under /v1 (POST /v1/chat/completions,"
                    + " GET /v1/models)", "unknown_url");
        }
        Route route = matching.stream().filter(r -> r.method().equals(method)).findFirst().orElseThrow(() -> {
            String allowed = matching.stream().map(r -> r.method().name())
                    .collect(Collectors.toCollection(TreeSet::new)).stream().collect(Collectors.joining(", "));
            return new HttpError(HttpResponseStatus.METHOD_NOT_ALLOWED, "invalid_request_error", path
                    + " does not take " + method + ": use " + allowed, null, "method_not_allowed")
                    .withHeader("Allow", allowed);
        });
        if (route.guarded() && tokens != null) {
            String refusal = tokens.refusal(authorization);
            if (refusal != null) {
                throw HttpError.unauthorized(refusal).withHeader("WWW-Authenticate", "Bearer");
            }
        }
        return route;
    }
}
