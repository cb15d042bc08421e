package io.convllava.llm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import org.junit.jupiter.api.Test;

/**
 * The vector widening agrees bit for bit with {@link HalfType#toFloat} on all 65,536 patterns, at both lane parities,
 * interpreted and once the JIT has compiled it (the compiled code is what the kernels run, and it differs).
 */
class WideningTest {

    @Test
    void bf16EveryBitPattern() {
        checkAllPatterns(HalfType.BF16);
    }

    @Test
    void fp16EveryBitPattern() {
        checkAllPatterns(HalfType.FP16);
    }

    private static void checkAllPatterns(HalfType type) {
        for (int pass = 0; pass < 20; pass++) {
            checkAllPatternsOnce(type);
        }
    }

    private static void checkAllPatternsOnce(HalfType type) {
        int lanes = Widening.PAIRS.length();
        // pattern p sits at column p (even or odd lane) and, shifted by one, at the other parity
        for (int shift = 0; shift < 2; shift++) {
            ByteBuffer bytes = ByteBuffer.allocate(2 * (65536 + 2 * lanes)).order(ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < 65536; p++) {
                bytes.putShort(2 * (p + shift), (short) p);
            }
            for (int column = 0; column < 65536 + shift; column += 2 * lanes) {
                IntVector pairs = IntVector.fromByteBuffer(Widening.PAIRS, bytes, 2 * column, ByteOrder.LITTLE_ENDIAN);
                boolean bf16 = type == HalfType.BF16;
                float[] even = (bf16 ? Widening.bf16Even(pairs) : Widening.fp16Even(pairs)).toArray();
                float[] odd = (bf16 ? Widening.bf16Odd(pairs) : Widening.fp16Odd(pairs)).toArray();
                for (int i = 0; i < lanes; i++) {
                    assertSame(type, bytes.getShort(2 * (column + 2 * i)), even[i]);
                    assertSame(type, bytes.getShort(2 * (column + 2 * i + 1)), odd[i]);
                }
            }
        }
    }

    private static void assertSame(HalfType type, short bits, float widened) {
        float expected = type.toFloat(bits);
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(widened),
                () -> type + " " + String.format("0x%04X", bits & 0xFFFF) + ": " + expected + " vs " + widened);
    }
}
