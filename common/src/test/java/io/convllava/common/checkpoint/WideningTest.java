package io.convllava.common.checkpoint;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WideningTest {

    /** Every one of the 65536 half-precision values against the IEEE 754 binary16 definition. */
    @Test
    void everyHalfValueMatchesItsDefinition() {
        for (int h = 0; h < 1 << 16; h++) {
            float f = Widening.halfToFloat((short) h);
            int sign = h >>> 15;
            int exponent = (h >>> 10) & 0x1f;
            int mantissa = h & 0x3ff;
            if (exponent == 0x1f) {
                assertTrue(mantissa == 0 ? Float.isInfinite(f) : Float.isNaN(f), Integer.toHexString(h));
                assertEquals(sign == 1, (Float.floatToRawIntBits(f) >>> 31) == 1, Integer.toHexString(h));
                continue;
            }
            double magnitude = exponent == 0
                    ? Math.scalb(mantissa / 1024.0, -14)
                    : Math.scalb(1 + mantissa / 1024.0, exponent - 15);
            double expected = sign == 1 ? -magnitude : magnitude;
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(f), Integer.toHexString(h));
        }
    }
}
