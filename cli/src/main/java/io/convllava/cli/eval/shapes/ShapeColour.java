package io.convllava.cli.eval.shapes;

import java.util.Locale;

/** The eight colours of the demo model's training scenes, with the RGB values its renderer paints. */
public enum ShapeColour {
    RED(220, 30, 30), GREEN(30, 170, 50), BLUE(30, 60, 220), YELLOW(240, 210, 20), PURPLE(140, 40, 170),
    ORANGE(245, 130, 20), BLACK(20, 20, 20), WHITE(250, 250, 250);

    private final int rgb;

    ShapeColour(int r, int g, int b) {
        this.rgb = (r << 16) | (g << 8) | b;
    }

    /** 0xRRGGBB. */
    public int rgb() {
        return rgb;
    }

    /** The word the training questions use: "red". */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
