package io.convllava.common.testing;

import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Bit-for-bit comparison of float buffers (distinguishes -0.0 from 0.0 and NaN payloads). */
public final class BitExact {
    private BitExact() {
    }

    public static void assertSameBits(FloatBuffer expected, FloatBuffer actual, String what) {
        assertEquals(expected.remaining(), actual.remaining(), what + ": element count");
        for (int i = 0; i < expected.remaining(); i++) {
            int e = Float.floatToRawIntBits(expected.get(expected.position() + i));
            int a = Float.floatToRawIntBits(actual.get(actual.position() + i));
            if (e != a) {
                assertEquals(Integer.toHexString(e), Integer.toHexString(a), what + ": element " + i);
            }
        }
    }

    public static float[] toArray(FloatBuffer b) {
        float[] a = new float[b.remaining()];
        b.duplicate().get(a);
        return a;
    }
}
