package io.convllava.cli.eval;

/**
 * A referring expression and the box of the object it names.
 *
 * @param box      {x1, y1, x2, y2} in the original image's pixels
 * @param width    the original image's width in pixels
 * @param category the split or kind of image, null when the file gives none
 */
public record RefCocoQuestion(String id, EvalImage image, String sentence, double[] box, int width, int height,
                              String category) {
}
