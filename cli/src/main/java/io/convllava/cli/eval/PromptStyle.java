package io.convllava.cli.eval;

import java.util.Locale;

/** How a benchmark question becomes the prompt sent to the model. */
public enum PromptStyle {
    /** The benchmark's reference wording: its answer instruction, and for MMBench the lettered options. */
    REFERENCE,
    /**
     * The question alone, as the data file words it: no answer instruction, no option list (MMBench answers are then
     * matched to the options by their text, as the reference extraction does). For models trained on bare questions,
     * like the demo model; scores are not comparable with the papers'.
     */
    BARE;

    public static PromptStyle byName(String name) {
        for (PromptStyle style : values()) {
            if (style.label().equals(name)) {
                return style;
            }
        }
        throw new IllegalArgumentException("unknown prompt style '" + name + "'; use reference or bare");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
