package io.convllava.coordinator.grounding;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a RefCOCO-style answer {@code [x1, y1, x2, y2]} and maps it to original-image pixels exactly as the
 * reference evaluation ({@code llava/eval/evaluate_grounding.py}) does: the numbers are relative to the padded
 * square (or 0-1000 scaled when they sum to 4 or more), are multiplied by max(W, H), and the padding offset is
 * removed from the padded axis. No clamping.
 */
public final class GroundingParser {
    // the reference's pattern: first match of \[*\[(.*?),(.*?),(.*?),(.*?)\]\]*
    private static final Pattern BOX = Pattern.compile("\\[*\\[(.*?),(.*?),(.*?),(.*?)\\]\\]*");

    private GroundingParser() {
    }

    /** The box in {@code answer} for an image of the given size, or empty when the answer holds no box. */
    public static Optional<BoundingBox> parse(String answer, int width, int height, int imageIndex) {
        Matcher m = BOX.matcher(answer);
        if (!m.find()) {
            return Optional.empty();
        }
        double[] v = new double[4];
        try {
            for (int i = 0; i < 4; i++) {
                v[i] = Double.parseDouble(m.group(i + 1).strip());
            }
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        double[] normalized = v.clone();
        double sum = v[0] + v[1] + v[2] + v[3];
        double scale = Math.max(width, height) / (sum >= 4 ? 1000.0 : 1.0);
        double x1 = v[0] * scale;
        double y1 = v[1] * scale;
        double x2 = v[2] * scale;
        double y2 = v[3] * scale;
        if (width > height) {
            int pad = (width - height) / 2;
            y1 -= pad;
            y2 -= pad;
        } else if (height > width) {
            int pad = (height - width) / 2;
            x1 -= pad;
            x2 -= pad;
        }
        return Optional.of(new BoundingBox(x1, y1, x2, y2, normalized, imageIndex));
    }
}
