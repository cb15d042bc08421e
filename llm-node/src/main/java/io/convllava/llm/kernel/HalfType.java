package io.convllava.llm.kernel;

/** The 16-bit floating-point formats a {@link HalfMatrix} stores: their bits and their float32 values. */
public enum HalfType {
    /** bfloat16: the top 16 bits of a float32 (sign, 8 exponent bits, 7 mantissa bits). */
    BF16,
    /** IEEE 754 binary16: sign, 5 exponent bits (bias 15), 10 mantissa bits. */
    FP16;

    /** The exact float32 value of one stored element (NaN payloads kept). */
    public float toFloat(short bits) {
        int h = bits & 0xFFFF;
        if (this == BF16) {
            return Float.intBitsToFloat(h << 16);
        }
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) { // infinity or NaN
            return Float.intBitsToFloat(sign | 0x7F800000 | mantissa << 13);
        }
        float magnitude = exponent == 0
                ? mantissa * 0x1p-24f // subnormal: mantissa * 2^-14 * 2^-10
                : Float.intBitsToFloat((exponent + 127 - 15) << 23 | mantissa << 13);
        return Float.intBitsToFloat(sign | Float.floatToRawIntBits(magnitude));
    }
}
