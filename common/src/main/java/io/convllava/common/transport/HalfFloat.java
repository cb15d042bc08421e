package io.convllava.common.transport;

/** IEEE 754 binary16 to float32 (Java 17 has no {@code Float.float16ToFloat}); exact, table-driven. */
final class HalfFloat {
    private static final float[] TABLE = new float[1 << 16];

    static {
        for (int h = 0; h < TABLE.length; h++) {
            TABLE[h] = compute(h);
        }
    }

    private HalfFloat() {
    }

    static float toFloat(short bits) {
        return TABLE[bits & 0xffff];
    }

    private static float compute(int h) {
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) { // inf or NaN, payload kept
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) { // zero or subnormal: mantissa * 2^-24
            float magnitude = mantissa * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
