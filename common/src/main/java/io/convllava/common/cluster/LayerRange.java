package io.convllava.common.cluster;

/**
 * A half-open range {@code [start, end)} of decoder layers. Written {@code "start-end"}, also half-open:
 * {@code "0-16"} is layers 0..15.
 */
public record LayerRange(int start, int end) {
    public LayerRange {
        if (start < 0 || end <= start) {
            throw new IllegalArgumentException("layer range [" + start + ", " + end + ") must have 0 <= start < end");
        }
    }

    /** Parses {@code "start-end"} (half-open), e.g. {@code "0-16"}. */
    public static LayerRange parse(String text) {
        String[] parts = text == null ? new String[0] : text.trim().split("-", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("layer range '" + text + "' must look like 'start-end', e.g. '0-16'");
        }
        try {
            return new LayerRange(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("layer range '" + text + "' must look like 'start-end', e.g. '0-16'", e);
        }
    }

    public int size() {
        return end - start;
    }

    public boolean contains(int layer) {
        return layer >= start && layer < end;
    }

    /** {@code "start-end"}, the form {@link #parse} reads. */
    @Override
    public String toString() {
        return start + "-" + end;
    }
}
