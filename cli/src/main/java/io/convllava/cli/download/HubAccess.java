package io.convllava.cli.download;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where the Hub is and the token shown to it: the endpoint given, else {@code HF_ENDPOINT}, else
 * {@code https://huggingface.co}; the token of the file given, else {@code HF_TOKEN}, else the file
 * {@code huggingface-cli login} writes ({@code HF_TOKEN_PATH}, else {@code HF_HOME/token}, else
 * {@code ~/.cache/huggingface/token}). The token goes only to the endpoint's own origin, never to the CDN that large
 * files redirect to.
 *
 * @param tokenSource where the token came from, for messages (null without a token)
 */
public record HubAccess(URI endpoint, String token, String tokenSource) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public HubAccess {
        boolean web = "http".equals(endpoint.getScheme()) || "https".equals(endpoint.getScheme());
        if (!web || endpoint.getHost() == null) {
            throw new IllegalArgumentException("the Hub endpoint must be an http(s) URL, got '" + endpoint + "'");
        }
    }

    /** A Hub without a token, e.g. a mirror. */
    public static HubAccess anonymous(URI endpoint) {
        return new HubAccess(endpoint, null, null);
    }

    /** The endpoint and token this process should use; see the class comment for the order. */
    public static HubAccess fromEnvironment(String endpointOrNull, Path tokenFileOrNull) {
        return resolve(endpointOrNull, tokenFileOrNull, System.getenv(), System.getProperty("user.home"));
    }

    static HubAccess resolve(String endpointOrNull, Path tokenFileOrNull, Map<String, String> env, String userHome) {
        String endpointText = endpointOrNull != null ? endpointOrNull : nonBlank(env.get("HF_ENDPOINT"));
        URI endpoint = parseEndpoint(endpointText != null ? endpointText : DEFAULT_ENDPOINT,
                endpointOrNull != null ? "--endpoint" : "HF_ENDPOINT");
        if (tokenFileOrNull != null) {
            String token = readToken(tokenFileOrNull);
            if (token == null) {
                throw new IllegalArgumentException("the token file " + tokenFileOrNull + " is empty");
            }
            return new HubAccess(endpoint, token, "the file " + tokenFileOrNull);
        }
        String token = nonBlank(env.get("HF_TOKEN"));
        if (token != null) {
            return new HubAccess(endpoint, token.strip(), "HF_TOKEN");
        }
        Path stored = storedTokenFile(env, userHome);
        token = Files.isRegularFile(stored) ? readToken(stored) : null;
        return new HubAccess(endpoint, token, token != null ? "the file " + stored : null);
    }

    /** The file {@code huggingface-cli login} keeps the token in. */
    static Path storedTokenFile(Map<String, String> env, String userHome) {
        String tokenPath = nonBlank(env.get("HF_TOKEN_PATH"));
        if (tokenPath != null) {
            return Path.of(tokenPath);
        }
        String hfHome = nonBlank(env.get("HF_HOME"));
        return hfHome != null ? Path.of(hfHome, "token") : Path.of(userHome, ".cache", "huggingface", "token");
    }

    /** Whether {@code uri} is on the endpoint's own scheme, host and port: only there does the token go. */
    public boolean isEndpointOrigin(URI uri) {
        return endpoint.getScheme().equalsIgnoreCase(uri.getScheme())
                && endpoint.getHost().equalsIgnoreCase(uri.getHost()) && port(endpoint) == port(uri);
    }

    /** {@code ENDPOINT/PATH}, PATH already encoded. */
    URI resolvePath(String encodedPath) {
        String base = endpoint.toString();
        return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/" + encodedPath);
    }

    private static int port(URI uri) {
        if (uri.getPort() != -1) {
            return uri.getPort();
        }
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    private static URI parseEndpoint(String text, String source) {
        try {
            URI uri = new URI(text.strip());
            if (uri.getHost() == null || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
                throw new IllegalArgumentException(source + " must be an http(s) URL like " + DEFAULT_ENDPOINT
                        + ", got '" + text + "'");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(source + " is not a URL: '" + text + "' (" + e.getReason() + ")");
        }
    }

    private static String readToken(Path file) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank()) {
                    return line.strip();
                }
            }
            return null;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the token file " + file + ": " + e.getMessage());
        }
    }

    private static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    @Override
    public String toString() {
        return "HubAccess[" + endpoint + (token != null ? ", token from " + tokenSource : ", no token") + "]";
    }
}
