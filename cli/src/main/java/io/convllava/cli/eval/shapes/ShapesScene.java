package io.convllava.cli.eval.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A scene like those the demo model ({@code models/convllava-shapes}) was trained and evaluated on: a 256 px square
 * of one background colour (each channel 90-200) holding 1-3 shapes of distinct colours, each in its own cell of a
 * 3x3 grid; 35% of the scenes are letterboxed: only a band of 150-255 px (across or down, centred) is content, the
 * rest is the padding colour, as {@code expand2square} pads a non-square image. The draws follow the training
 * renderer's distributions; the random source is this project's own, so scenes are reproducible by seed.
 *
 * @param background 0xRRGGBB
 * @param x0         content area [x0, x1) x [y0, y1) in scene pixels
 */
public record ShapesScene(int index, int background, int x0, int y0, int x1, int y1, List<SceneObject> objects) {
    /** Scene side in pixels: the demo model's resolution. */
    public static final int SIDE = 256;
    /** The CLIP mean colour {@code expand2square} pads with: (122, 116, 104). */
    public static final int PAD = (122 << 16) | (116 << 8) | 104;

    public ShapesScene {
        objects = List.copyOf(objects);
    }

    /** Scene {@code index} of the set generated from {@code seed}: the same whatever the size of the set. */
    public static ShapesScene generate(long seed, int index) {
        return random(index, random(seed, index));
    }

    /** The random source of scene {@code index}: its geometry first, then its questions. */
    static SplittableRandom random(long seed, int index) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
    }

    static ShapesScene random(int index, SplittableRandom rnd) {
        int background = 0;
        for (int c = 0; c < 3; c++) {
            background = (background << 8) | (90 + rnd.nextInt(111));
        }
        boolean letterboxed = rnd.nextDouble() < 0.35;
        int side = 150 + rnd.nextInt(SIDE - 150);
        boolean horizontalBand = rnd.nextDouble() < 0.5;
        int offset = (SIDE - side) / 2;
        int x0 = 0;
        int y0 = 0;
        int x1 = SIDE;
        int y1 = SIDE;
        if (letterboxed && horizontalBand) {
            y0 = offset;
            y1 = offset + side;
        } else if (letterboxed) {
            x0 = offset;
            x1 = offset + side;
        }
        int count = 1 + rnd.nextInt(3);
        int[] cells = firstOfPermutation(rnd, 9, count);
        int[] colours = firstOfPermutation(rnd, ShapeColour.values().length, count);
        float cellWidth = (x1 - x0) / 3f;
        float cellHeight = (y1 - y0) / 3f;
        List<SceneObject> objects = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ShapeKind shape = ShapeKind.values()[rnd.nextInt(3)];
            float jx = (float) rnd.nextDouble();
            float jy = (float) rnd.nextDouble();
            float jr = (float) rnd.nextDouble();
            float cx = x0 + (cells[i] % 3) * cellWidth + cellWidth * (0.3f + 0.4f * jx);
            float cy = y0 + (cells[i] / 3) * cellHeight + cellHeight * (0.3f + 0.4f * jy);
            float r = Math.min(cellWidth, cellHeight) * (0.22f + 0.2f * jr);
            objects.add(new SceneObject(ShapeColour.values()[colours[i]], shape, cx, cy, r));
        }
        return new ShapesScene(index, background, x0, y0, x1, y1, objects);
    }

    /** The first {@code k} of a random permutation of 0..n-1 (distinct values). */
    private static int[] firstOfPermutation(SplittableRandom rnd, int n, int k) {
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            values[i] = i;
        }
        for (int i = 0; i < k; i++) {
            int j = i + rnd.nextInt(n - i);
            int t = values[i];
            values[i] = values[j];
            values[j] = t;
        }
        return java.util.Arrays.copyOf(values, k);
    }

    public boolean letterboxed() {
        return x0 != 0 || y0 != 0 || x1 != SIDE || y1 != SIDE;
    }

    public int contentWidth() {
        return x1 - x0;
    }

    public int contentHeight() {
        return y1 - y0;
    }

    /** The file name of this scene's image: "shapes-0007.png". */
    public String fileName() {
        return String.format("shapes-%04d.png", index);
    }
}
