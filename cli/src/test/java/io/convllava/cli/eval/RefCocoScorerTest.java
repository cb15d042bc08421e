package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Acc@0.5 with boxes mapped back from the padded square: on a W x H image the answer's numbers are multiplied by
 * max(W, H) and the padding (|W - H| / 2, rounded down) is taken off the short axis.
 */
class RefCocoScorerTest {
    private static final EvalImage IMAGE = EvalImage.file(Path.of("unused.png"));

    private static RefCocoQuestion q(String id, double[] box, int width, int height) {
        return new RefCocoQuestion(id, IMAGE, "the red circle", box, width, height, null);
    }

    @Test
    void aWideImageIsPaddedAboveAndBelow() {
        // 200 x 100: the square is 200, padded 50 above; [0.25, 0.375, 0.75, 0.625] * 200 = [50, 75, 150, 125]
        RefCocoQuestion wide = q("1", new double[] {50, 25, 150, 75}, 200, 100);
        assertEquals(1.0, RefCocoScorer.iou(wide, "[0.25, 0.375, 0.75, 0.625]"), 1e-12);
    }

    @Test
    void aTallImageIsPaddedLeftAndRight() {
        // 100 x 300: padded 100 on the left; [0.4, 0.1, 0.6, 0.3] * 300 = [120, 30, 180, 90] -> x - 100
        RefCocoQuestion tall = q("1", new double[] {20, 30, 80, 90}, 100, 300);
        assertEquals(1.0, RefCocoScorer.iou(tall, "[0.4, 0.1, 0.6, 0.3]"), 1e-12);
    }

    @Test
    void anOddDifferenceRoundsThePaddingDown() {
        // 103 x 100: padding (103 - 100) / 2 = 1; [0, 0.01, 1, 0.5] * 103 = [0, 1.03, 103, 51.5] -> y - 1
        RefCocoQuestion odd = q("1", new double[] {0, 0.03, 103, 50.5}, 103, 100);
        assertEquals(1.0, RefCocoScorer.iou(odd, "[0, 0.01, 1, 0.5]"), 1e-9);
    }

    @Test
    void boxesScaledTo1000AreRecognisedByTheirSum() {
        RefCocoQuestion wide = q("1", new double[] {50, 25, 150, 75}, 200, 100);
        assertEquals(1.0, RefCocoScorer.iou(wide, "[250, 375, 750, 625]"), 1e-12);
    }

    @Test
    void anIouOfExactlyOneHalfIsAHit() {
        List<RefCocoQuestion> questions = List.of(
                q("1", new double[] {0, 0, 100, 100}, 100, 100),
                q("2", new double[] {0, 0, 100, 100}, 100, 100),
                q("3", new double[] {0, 0, 100, 100}, 100, 100));
        // half the box: IoU 0.5, a hit; 49% of it: a miss; no box at all: IoU 0
        Map<String, String> answers = Map.of("1", "[0.0, 0.0, 0.5, 1.0]", "2", "[0.0, 0.0, 0.49, 1.0]",
                "3", "It is on the left.");
        ScoreTable t = RefCocoScorer.score(questions, answers);
        assertEquals(100.0 / 3, t.row("all").value(t, "accuracy"), 1e-9);
        assertEquals((0.5 + 0.49) / 3, t.row("all").value(t, "mean_iou"), 1e-9);
        assertEquals(1, t.notes().size(), "the answer without a box is noted");
    }
}
