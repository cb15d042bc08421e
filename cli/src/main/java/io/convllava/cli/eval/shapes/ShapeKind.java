package io.convllava.cli.eval.shapes;

import java.util.Locale;

/** The three shapes of the demo model's training scenes. */
public enum ShapeKind {
    CIRCLE, SQUARE, TRIANGLE;

    /** The word the training questions use: "circle". */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Whether the pixel centre at offset (dx, dy) from the shape's centre is painted, for a shape of "radius" r:
     * the disc, the axis-aligned square of half side r, or the triangle with its apex at the top and its base of
     * width 2r at the bottom. Single-precision arithmetic and inclusive edges, as the training renderer.
     */
    boolean covers(float dx, float dy, float r) {
        return switch (this) {
            case CIRCLE -> dx * dx + dy * dy <= r * r;
            case SQUARE -> Math.abs(dx) <= r && Math.abs(dy) <= r;
            case TRIANGLE -> dy >= -r && dy <= r && Math.abs(dx) <= (dy + r) / 2;
        };
    }
}
