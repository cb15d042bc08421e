package io.convllava.cli.eval.shapes;

import io.convllava.cli.eval.ReferencePrompts;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A question of one of the five kinds the demo model was trained on, worded as in its training data, with the
 * true answer in the training answers' form ("Three.", "A triangle.", "Blue.", "There are ...", "[x1, y1, x2, y2]").
 *
 * @param kind count, shape, color, describe or ground
 */
public record ShapesQuestion(String kind, String question, String truth) {
    private static final String[] NUMBER_WORDS = {"zero", "one", "two", "three"};

    /** "How many shapes are in the image?" / "Three." */
    public static ShapesQuestion count(ShapesScene scene) {
        return new ShapesQuestion("count", "How many shapes are in the image?",
                capitalised(numberWord(scene.objects().size())) + ".");
    }

    /** "What shape is the red object?" / "A triangle." */
    public static ShapesQuestion shape(SceneObject object) {
        return new ShapesQuestion("shape", "What shape is the " + object.colour().word() + " object?",
                "A " + object.shape().word() + ".");
    }

    /**
     * "What color is the square?" / "Blue."; when the scene holds several shapes of that kind, the leftmost or the
     * rightmost of them (drawn from {@code rnd}): "What color is the square on the left?".
     */
    public static ShapesQuestion color(ShapesScene scene, SceneObject object, SplittableRandom rnd) {
        List<SceneObject> same = scene.objects().stream().filter(o -> o.shape() == object.shape())
                .sorted(Comparator.comparingDouble(SceneObject::cx)).toList();
        if (same.size() > 1) {
            boolean left = rnd.nextDouble() < 0.5;
            SceneObject chosen = left ? same.get(0) : same.get(same.size() - 1);
            return new ShapesQuestion("color", "What color is the " + object.shape().word() + " on the "
                    + (left ? "left" : "right") + "?", capitalised(chosen.colour().word()) + ".");
        }
        return new ShapesQuestion("color", "What color is the " + object.shape().word() + "?",
                capitalised(object.colour().word()) + ".");
    }

    /** "Describe the image briefly." / "There are a red circle and a blue square." (left to right). */
    public static ShapesQuestion describe(ShapesScene scene) {
        List<String> parts = scene.objects().stream().sorted(Comparator.comparingDouble(SceneObject::cx))
                .map(o -> "a " + o.colour().word() + " " + o.shape().word()).toList();
        String body = parts.size() == 1 ? parts.get(0)
                : String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
        return new ShapesQuestion("describe", "Describe the image briefly.",
                "There " + (parts.size() == 1 ? "is " : "are ") + body + ".");
    }

    /** The grounding question and the box normalised to the square scene, two decimals. */
    public static ShapesQuestion ground(SceneObject object) {
        double[] b = object.box(ShapesScene.SIDE);
        return new ShapesQuestion("ground", ReferencePrompts.grounding(object.description()), String.format(Locale.ROOT,
                "[%.2f, %.2f, %.2f, %.2f]", b[0] / ShapesScene.SIDE, b[1] / ShapesScene.SIDE,
                b[2] / ShapesScene.SIDE, b[3] / ShapesScene.SIDE));
    }

    public static String numberWord(int n) {
        return NUMBER_WORDS[n];
    }

    static String capitalised(String word) {
        return Character.toUpperCase(word.charAt(0)) + word.substring(1);
    }
}
