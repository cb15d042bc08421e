package io.convllava.common.checkpoint;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/** Converts stored elements of any {@link DType} to float32 (BF16 and F16 exactly, integers by value). */
public final class Widening {
    private static final int CHUNK = 8192;
    private static final float[] HALF_TO_FLOAT = new float[1 << 16];

    static {
        for (int h = 0; h < HALF_TO_FLOAT.length; h++) {
            HALF_TO_FLOAT[h] = computeHalfToFloat(h);
        }
    }

    private Widening() {
    }

    /** bfloat16 is the top 16 bits of a float32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** IEEE 754 binary16 to float32, exact (table-driven; Java 17 has no Float.float16ToFloat). */
    public static float halfToFloat(short bits) {
        return HALF_TO_FLOAT[bits & 0xffff];
    }

    private static float computeHalfToFloat(int h) {
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

    /**
     * Appends every element of {@code src} (position to limit, a whole number of elements, byte order already set)
     * to {@code dst} as float32.
     */
    static void convert(ByteBuffer src, DType dtype, FloatBuffer dst) {
        switch (dtype) {
            case F32 -> dst.put(src.asFloatBuffer());
            case BF16 -> convertShorts(src.asShortBuffer(), dst, false);
            case F16 -> convertShorts(src.asShortBuffer(), dst, true);
            default -> {
                int n = src.remaining() / dtype.bytes();
                int base = src.position();
                for (int i = 0; i < n; i++) {
                    dst.put(element(src, base + i * dtype.bytes(), dtype));
                }
            }
        }
    }

    private static void convertShorts(ShortBuffer src, FloatBuffer dst, boolean half) {
        short[] in = new short[Math.min(CHUNK, src.remaining())];
        float[] out = new float[in.length];
        while (src.hasRemaining()) {
            int n = Math.min(in.length, src.remaining());
            src.get(in, 0, n);
            if (half) {
                for (int i = 0; i < n; i++) {
                    out[i] = HALF_TO_FLOAT[in[i] & 0xffff];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat(in[i] << 16);
                }
            }
            dst.put(out, 0, n);
        }
    }

    /** One element at an absolute byte index of {@code src} (byte order already set). */
    static float element(ByteBuffer src, int byteIndex, DType dtype) {
        return switch (dtype) {
            case F32 -> src.getFloat(byteIndex);
            case F16 -> halfToFloat(src.getShort(byteIndex));
            case BF16 -> bf16ToFloat(src.getShort(byteIndex));
            case F64 -> (float) src.getDouble(byteIndex);
            case I64 -> (float) src.getLong(byteIndex);
            case I32 -> (float) src.getInt(byteIndex);
            case I16 -> src.getShort(byteIndex);
            case I8 -> src.get(byteIndex);
            case U8 -> src.get(byteIndex) & 0xff;
            case BOOL -> src.get(byteIndex) != 0 ? 1f : 0f;
        };
    }
}
