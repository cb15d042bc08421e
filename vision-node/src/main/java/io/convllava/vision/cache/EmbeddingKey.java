package io.convllava.vision.cache;

/**
 * What cached embeddings are looked up by: the image file's content and the encoder that encoded it.
 *
 * @param sha256   lower-case hex SHA-256 of the image file's bytes
 * @param revision the encoder's {@linkplain io.convllava.vision.model.ModelRevision revision}
 */
public record EmbeddingKey(String sha256, String revision) {

    public EmbeddingKey {
        if (sha256 == null || sha256.length() != 64) {
            throw new IllegalArgumentException("sha256 must be 64 hex digits, got " + sha256);
        }
        if (revision == null || revision.isEmpty()) {
            throw new IllegalArgumentException("revision must not be empty");
        }
    }
}
