package io.convllava.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Plain HTTP requests to a coordinator's OpenAI-compatible API (java.net.http), and the JSON they carry. */
final class OpenAiHttp {
    /** A response: its status and JSON body. */
    record Response(int status, JsonObject json, HttpResponse<?> raw) {
        JsonObject error() {
            return json.getAsJsonObject("error");
        }
    }

    private final HttpClient client;
    private final String baseUrl;
    private final String token;

    /** @param baseUrl {@code http(s)://host:port}; @param token the bearer token to send, null = none */
    OpenAiHttp(HttpClient client, String baseUrl, String token) {
        this.client = client;
        this.baseUrl = baseUrl;
        this.token = token;
    }

    OpenAiHttp(String baseUrl, String token) {
        this(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(), baseUrl, token);
    }

    OpenAiHttp withToken(String other) {
        return new OpenAiHttp(client, baseUrl, other);
    }

    Response get(String path) throws IOException, InterruptedException {
        return send(builder(path).GET().build());
    }

    Response post(String path, String body) throws IOException, InterruptedException {
        return send(builder(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** A streamed completion: the data of every server-sent event, in order ({@code [DONE]} included). */
    List<String> stream(String body) throws IOException, InterruptedException {
        HttpResponse<java.io.InputStream> response = client.send(builder("/v1/chat/completions")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        List<String> events = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(),
                StandardCharsets.UTF_8))) {
            if (response.statusCode() != 200) {
                throw new AssertionError("HTTP " + response.statusCode() + ": " + lines.readLine());
            }
            if (!response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream")) {
                throw new AssertionError("not an event stream: " + response.headers());
            }
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("data: ")) {
                    events.add(line.substring("data: ".length()));
                } else if (!line.isEmpty()) {
                    throw new AssertionError("an event stream line that is not data: '" + line + "'");
                }
            }
        }
        return events;
    }

    private HttpRequest.Builder builder(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(120));
        return token == null ? b : b.header("Authorization", "Bearer " + token);
    }

    private Response send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), JsonParser.parseString(r.body()).getAsJsonObject(), r);
    }

    /** {@code data:image/png;base64,...}. */
    static String dataUrl(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }

    /** A request with one user message: the question, then the image (as clients write it) when there is one. */
    static JsonObject chat(String question, byte[] png, int maxTokens) {
        JsonArray content = new JsonArray();
        JsonObject text = new JsonObject();
        text.addProperty("type", "text");
        text.addProperty("text", question);
        content.add(text);
        if (png != null) {
            JsonObject url = new JsonObject();
            url.addProperty("url", dataUrl(png));
            JsonObject image = new JsonObject();
            image.addProperty("type", "image_url");
            image.add("image_url", url);
            content.add(image);
        }
        JsonObject user = new JsonObject();
        user.addProperty("role", "user");
        user.add("content", content);
        JsonArray messages = new JsonArray();
        messages.add(user);
        JsonObject request = new JsonObject();
        request.add("messages", messages);
        request.addProperty("max_tokens", maxTokens);
        return request;
    }
}
