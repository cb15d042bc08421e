package io.convllava.coordinator.prefix;

import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.ImageInput;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What ties the requests of one conversation together before anything is tokenized: the template, the first message
 * and the first image. Every turn of a conversation repeats them, so routing its turns by this key sends them to the
 * pipeline that keeps the conversation's cache.
 */
public final class ConversationAffinity {
    private ConversationAffinity() {
    }

    /** A hex SHA-256 of the template name, the first message's role and text, and the first image's bytes. */
    public static String of(GenerationRequest request) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(request.template().name().getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            if (!request.messages().isEmpty()) {
                sha.update(request.messages().get(0).role().name().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(request.messages().get(0).text().getBytes(StandardCharsets.UTF_8));
            }
            sha.update((byte) 0);
            if (!request.images().isEmpty()) {
                ImageInput first = request.images().get(0);
                if (first.bytes() != null) {
                    sha.update(first.bytes());
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
