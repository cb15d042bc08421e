package io.convllava.llm.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FastExpTest {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    @Test
    void withinTwoUlpOfExpOverTheRangeThatMatters() {
        double worst = 0;
        for (float x = -87f; x <= 88f; x += 0.00731f) {
            double exact = Math.exp(x);
            double error = Math.abs(FastExp.exp(x) - exact) / Math.ulp((float) exact);
            worst = Math.max(worst, error);
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp");
        assertEquals(1f, FastExp.exp(0f));
        assertTrue(FastExp.exp(-1000f) < 1.3e-38f && FastExp.exp(-1000f) > 0f, "clamped below");
        assertTrue(Float.isFinite(FastExp.exp(1000f)), "clamped above");
    }

    @Test
    void lanesAndSingleFloatsGiveTheSameBitsInterpretedAndCompiled() {
        SplittableRandom random = new SplittableRandom(1);
        float[] x = new float[F.length() * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() * 60 - 50);
        }
        float[] first = lanes(x);
        float[] scalar = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            scalar[i] = FastExp.exp(x[i]);
        }
        assertArrayEquals(scalar, first, "a lane equals the single-float version");
        for (int round = 0; round < 3000; round++) { // C2 compiles the loop well before this
            float[] again = lanes(x);
            if (round % 1000 == 999) {
                assertArrayEquals(first, again, "round " + round);
            }
        }
    }

    private static float[] lanes(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += F.length()) {
            FastExp.exp(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        return y;
    }
}
