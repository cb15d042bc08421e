package io.convllava.cli.eval.shapes;

/**
 * One shape of a scene, in the pixels of the 256 px square scene.
 *
 * @param cx centre, x
 * @param cy centre, y
 * @param r  half the shape's width and height
 */
public record SceneObject(ShapeColour colour, ShapeKind shape, float cx, float cy, float r) {

    /** "the red circle". */
    public String description() {
        return "the " + colour.word() + " " + shape.word();
    }

    /** The shape's extent {x1, y1, x2, y2} in scene pixels, clipped to {@code [0, side]} like the training boxes. */
    public double[] box(int side) {
        return new double[] {Math.max(0, cx - r), Math.max(0, cy - r), Math.min(side, cx + r), Math.min(side, cy + r)};
    }
}
