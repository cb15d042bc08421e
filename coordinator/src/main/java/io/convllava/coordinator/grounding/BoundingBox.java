package io.convllava.coordinator.grounding;

/**
 * A box the model answered, {@code [x1, y1, x2, y2]}.
 *
 * @param x1         left edge in original-image pixels (not clamped, like the reference RefCOCO evaluation)
 * @param normalized the four numbers as the model wrote them, relative to the padded square (0-1)
 * @param imageIndex which request image the box refers to
 */
public record BoundingBox(double x1, double y1, double x2, double y2, double[] normalized, int imageIndex) {

    public double area() {
        return Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
    }

    /** Intersection over union with another box in the same pixel space. */
    public double iou(BoundingBox other) {
        double w = Math.min(x2, other.x2) - Math.max(x1, other.x1);
        double h = Math.min(y2, other.y2) - Math.max(y1, other.y1);
        double inter = Math.max(0, w) * Math.max(0, h);
        double union = area() + other.area() - inter;
        return union <= 0 ? 0 : inter / union;
    }
}
