package io.convllava.coordinator.httpapi;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.convllava.common.transport.MessageLimits;
import io.convllava.coordinator.http.HttpError;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Base64;
import java.util.Locale;

/**
 * The bytes of an {@code image_url}: a base64 data URL ({@code data:image/png;base64,...}) always, an http(s) URL
 * only when the server fetches them ({@link ImageFetcher}). Every image is held to {@link MessageLimits#checkImage}
 * before it is decoded or downloaded in full.
 */
final class ImageSources {
    private final ImageFetcher fetcher;

    /** @param fetcher downloads http(s) image URLs; null = such URLs are refused */
    ImageSources(ImageFetcher fetcher) {
        this.fetcher = fetcher;
    }

    /** The image at {@code url}, for the request field {@code param}. */
    ByteString load(String url, String param) {
        int colon = url.indexOf(':');
        String scheme = colon < 0 ? "" : url.substring(0, colon + 1).toLowerCase(Locale.ROOT);
        if (scheme.equals("data:")) {
            return UnsafeByteOperations.unsafeWrap(decodeDataUrl(url, param));
        }
        if (scheme.equals("http:") || scheme.equals("https:")) {
            if (fetcher == null) {
                throw HttpError.invalid(param + ": this server does not download images (its operator can allow it"
                        + " with --allow-image-urls): send the image inline as a data URL,"
                        + " data:image/png;base64,...", param);
            }
            return UnsafeByteOperations.unsafeWrap(fetcher.fetch(uri(url, param), param));
        }
        throw HttpError.invalid(param + " must be a data URL (data:image/png;base64,...) or an http(s) URL, got "
                + (url.length() <= 40 ? "'" + url + "'" : "'" + url.substring(0, 37) + "...'"), param);
    }

    /** {@code data:[<media type>];base64,<data>}: the decoded bytes, within the image size limit. */
    static byte[] decodeDataUrl(String url, String param) {
        int comma = url.indexOf(',');
        if (comma < 0) {
            throw HttpError.invalid(param + " is a data URL without a comma: data:image/png;base64,<base64 bytes>",
                    param);
        }
        String meta = url.substring("data:".length(), comma).toLowerCase(Locale.ROOT);
        if (!meta.endsWith(";base64")) {
            throw HttpError.invalid(param + " is a data URL without ';base64': send the image base64-encoded,"
                    + " data:image/png;base64,<base64 bytes>", param);
        }
        String mediaType = meta.substring(0, meta.length() - ";base64".length());
        if (!mediaType.isEmpty() && !mediaType.startsWith("image/")
                && !mediaType.equals("application/octet-stream")) {
            throw HttpError.invalid(param + " is a data URL of " + mediaType + ", not of an image", param);
        }
        String payload = url.substring(comma + 1);
        if (payload.chars().anyMatch(Character::isWhitespace)) {
            payload = payload.replaceAll("\\s+", ""); // line breaks of a wrapped base64 text
        }
        long bytes = (long) payload.length() / 4 * 3;
        try {
            MessageLimits.checkImage(param, bytes - (payload.endsWith("==") ? 2 : payload.endsWith("=") ? 1 : 0));
        } catch (IllegalArgumentException e) {
            throw HttpError.invalid(e.getMessage(), param);
        }
        byte[] image;
        try {
            image = Base64.getDecoder().decode(payload);
        } catch (IllegalArgumentException e) {
            throw HttpError.invalid(param + " is not valid base64 (" + e.getMessage() + ")", param);
        }
        if (image.length == 0) {
            throw HttpError.invalid(param + " is an empty data URL: send the image file's bytes", param);
        }
        return image;
    }

    private static URI uri(String url, String param) {
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            throw HttpError.invalid(param + " is not a valid URL: " + e.getMessage(), param);
        }
    }
}
