package io.convllava.coordinator.httpapi;

import io.convllava.common.transport.MessageLimits;
import io.convllava.coordinator.http.HttpError;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Downloads the images that requests name by http(s) URL (only where the operator allowed it: the coordinator then
 * fetches whatever address a caller names, internal ones included). The whole download must end within the time
 * limit and stay within the size limit; anything else is a 400 naming the request field and what went wrong.
 *
 * @param connectTimeout how long connecting may take
 * @param totalTimeout   how long the whole download may take, from the request to the last byte
 * @param maxBytes       the largest image accepted
 */
record ImageFetcher(Duration connectTimeout, Duration totalTimeout, int maxBytes) {
    static final ImageFetcher DEFAULTS = new ImageFetcher(Duration.ofSeconds(5), Duration.ofSeconds(20),
            MessageLimits.MAX_IMAGE_BYTES);

    /** The bytes at {@code url} (an http or https URL), for the request field {@code param}. */
    byte[] fetch(URI url, String param) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        HttpRequest request = HttpRequest.newBuilder(url).timeout(totalTimeout).header("Accept", "image/*").GET()
                .build();
        CompletableFuture<HttpResponse<byte[]>> download = client.sendAsync(request, info ->
                info.statusCode() / 100 != 2 ? HttpResponse.BodySubscribers.replacing(null)
                        : new LimitedBody(maxBytes, info.headers().firstValueAsLong("content-length").orElse(-1)));
        HttpResponse<byte[]> response;
        try {
            response = download.get(totalTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            download.cancel(true);
            throw failed(param, url, "it did not arrive within " + totalTimeout.toSeconds() + " s");
        } catch (InterruptedException e) {
            download.cancel(true);
            Thread.currentThread().interrupt();
            throw HttpError.unavailable("the coordinator is stopping");
        } catch (ExecutionException e) {
            throw failed(param, url, reason(e.getCause()));
        }
        if (response.statusCode() / 100 != 2) {
            throw failed(param, url, "the server answered HTTP " + response.statusCode());
        }
        if (response.body().length == 0) {
            throw failed(param, url, "the server sent no bytes");
        }
        return response.body();
    }

    private String reason(Throwable cause) {
        if (cause instanceof TooLarge tooLarge) {
            return "it is " + tooLarge.size + " bytes or more; images are limited to " + maxBytes + " bytes ("
                    + (maxBytes >> 20) + " MiB)";
        }
        if (cause instanceof HttpConnectTimeoutException) {
            return "could not connect within " + connectTimeout.toSeconds() + " s";
        }
        if (cause instanceof java.net.http.HttpTimeoutException) {
            return "it did not arrive within " + totalTimeout.toSeconds() + " s";
        }
        if (cause instanceof IOException) {
            return "the download failed (" + cause + ")";
        }
        return String.valueOf(cause);
    }

    private static HttpError failed(String param, URI url, String why) {
        return HttpError.invalid(param + ": the image at " + url + " could not be fetched: " + why, param);
    }

    /** Thrown into the download when the image passes the size limit. */
    private static final class TooLarge extends IOException {
        private final long size;

        TooLarge(long size) {
            super("over the size limit");
            this.size = size;
        }
    }

    /** Collects the body, cancelling the download as soon as it passes the limit (or declares a larger length). */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final int max;
        private final long declared;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        LimitedBody(int max, long declared) {
            this.max = max;
            this.declared = declared;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (declared > max) {
                s.cancel();
                result.completeExceptionally(new TooLarge(declared));
                return;
            }
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer buffer : items) {
                if (result.isDone()) {
                    return;
                }
                if ((long) bytes.size() + buffer.remaining() > max) {
                    subscription.cancel();
                    result.completeExceptionally(new TooLarge((long) bytes.size() + buffer.remaining()));
                    return;
                }
                byte[] chunk = new byte[buffer.remaining()];
                buffer.get(chunk);
                bytes.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(bytes.toByteArray());
        }
    }
}
