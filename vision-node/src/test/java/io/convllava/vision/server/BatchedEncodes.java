package io.convllava.vision.server;

import io.convllava.common.tensor.HostTensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the tests of batched encodes share: a batch of one image, and the comparison with a lone encode. */
final class BatchedEncodes {
    private BatchedEncodes() {
    }

    /** [3, R, R] pixels as a batch of one, [1, 3, R, R]. */
    static HostTensor batchOfOne(HostTensor chw) {
        long[] shape = {1, chw.dim(0), chw.dim(1), chw.dim(2)};
        return new HostTensor(shape, chw.data());
    }

    /** Same inputs, but a batch of several may take other kernels than a batch of 1: allow float32 rounding. */
    static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= 1e-5 * Math.max(1, scale), what + ": max |diff| " + worst + " (scale " + scale + ")");
    }
}
