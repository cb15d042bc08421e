package io.convllava.coordinator.server;

import io.convllava.coordinator.generate.EncodedImage;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The image encodes a coordinator has in progress, by the image's SHA-256, shared by its requests: a request whose
 * image is already being encoded for another one waits for that encode instead of sending the same image to the same
 * vision node again (sixteen users asking about one new picture at once cost one encode, not sixteen). The owner of
 * an encode always finishes it, with its result or its failure; a waiting request whose owner failed encodes the image
 * itself, so one request's cancellation or bad luck never fails another.
 */
final class InFlightEncodes {
    private final ConcurrentHashMap<String, CompletableFuture<EncodedImage>> encoding = new ConcurrentHashMap<>();

    /**
     * Registers {@code mine} as the encode of this image, unless one is in progress: returns that one (to wait for),
     * or null when the caller now owns the encode and must {@link #finish} it.
     */
    CompletableFuture<EncodedImage> claim(String sha256, CompletableFuture<EncodedImage> mine) {
        return encoding.putIfAbsent(sha256, mine);
    }

    /** Ends an encode the caller owns: with its result, or with {@code failure} when there is none. */
    void finish(String sha256, CompletableFuture<EncodedImage> mine, EncodedImage result, Throwable failure) {
        encoding.remove(sha256, mine);
        if (result != null) {
            mine.complete(result);
        } else {
            mine.completeExceptionally(failure != null ? failure
                    : new IllegalStateException("the encode of image " + sha256 + " ended without a result"));
        }
    }

    /** Encodes in progress. */
    int size() {
        return encoding.size();
    }
}
