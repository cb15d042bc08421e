package io.convllava.llm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The scalar conversions every other path is checked against. */
class HalfTypeTest {

    @Test
    void bf16IsTheTopHalfOfAFloat32() {
        assertEquals(1.0f, HalfType.BF16.toFloat((short) 0x3F80));
        assertEquals(-2.0f, HalfType.BF16.toFloat((short) 0xC000));
        assertEquals(Float.intBitsToFloat(0x40490000), HalfType.BF16.toFloat((short) 0x4049)); // 3.140625
        assertEquals(Float.NEGATIVE_INFINITY, HalfType.BF16.toFloat((short) 0xFF80));
        assertEquals(0x80000000, Float.floatToRawIntBits(HalfType.BF16.toFloat((short) 0x8000)));
    }

    @Test
    void fp16NormalsSubnormalsAndSpecials() {
        assertEquals(1.0f, HalfType.FP16.toFloat((short) 0x3C00));
        assertEquals(-2.0f, HalfType.FP16.toFloat((short) 0xC000));
        assertEquals(65504.0f, HalfType.FP16.toFloat((short) 0x7BFF)); // largest finite
        assertEquals(0x1p-14f, HalfType.FP16.toFloat((short) 0x0400)); // smallest normal
        assertEquals(0x1p-24f, HalfType.FP16.toFloat((short) 0x0001)); // smallest subnormal
        assertEquals(-0x3FFp-24f, HalfType.FP16.toFloat((short) 0x83FF)); // largest subnormal, negative
        assertEquals(0.333251953125f, HalfType.FP16.toFloat((short) 0x3555));
        assertEquals(0x80000000, Float.floatToRawIntBits(HalfType.FP16.toFloat((short) 0x8000)));
        assertEquals(Float.POSITIVE_INFINITY, HalfType.FP16.toFloat((short) 0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, HalfType.FP16.toFloat((short) 0xFC00));
        assertTrue(Float.isNaN(HalfType.FP16.toFloat((short) 0x7E00)));
        assertTrue(Float.isNaN(HalfType.FP16.toFloat((short) 0xFC01)));
    }
}
