package io.convllava.common.transport;

import com.google.protobuf.ByteString;
import io.convllava.common.tensor.HostTensor;
import io.convllava.proto.v1.DType;
import io.convllava.proto.v1.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorCodecTest {

    @Test
    void float32RoundTripIsExactAndLittleEndian() {
        HostTensor t = HostTensor.of(new float[]{1f, -2.5f, Float.MIN_VALUE, Float.NaN, 3e38f, 0f}, 2, 3);
        Tensor wire = TensorCodec.encode(t);
        assertEquals(DType.FLOAT32, wire.getDtype());
        assertEquals(24, wire.getData().size());
        // 1.0f = 0x3f800000, little-endian: 00 00 80 3f
        assertArrayEquals(new byte[]{0, 0, (byte) 0x80, 0x3f}, wire.getData().substring(0, 4).toByteArray());
        HostTensor back = TensorCodec.decode(wire, "t");
        assertArrayEquals(t.shape(), back.shape());
        assertArrayEquals(t.data(), back.data());
    }

    @Test
    void scalarAndEmptyTensorsRoundTrip() {
        HostTensor scalar = HostTensor.of(new float[]{7f});
        assertArrayEquals(new float[]{7f}, TensorCodec.decode(TensorCodec.encode(scalar), "s").data());
        HostTensor empty = HostTensor.of(new float[0], 0, 64);
        assertArrayEquals(new long[]{0, 64}, TensorCodec.decode(TensorCodec.encode(empty), "e").shape());
    }

    @Test
    void widensFloat16() {
        // 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, smallest subnormal 2^-24 = 0x0001, +inf = 0x7c00
        Tensor wire = shorts(DType.FLOAT16, (short) 0x3c00, (short) 0xc000, (short) 0x7bff, (short) 0x0001,
                (short) 0x7c00);
        float[] got = TensorCodec.decode(wire, "h").data();
        assertArrayEquals(new float[]{1f, -2f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY}, got);
    }

    @Test
    void widensBfloat16() {
        // bfloat16 is the top half of a float32: 1.0 = 0x3f80, -3.0 = 0xc040, 1.5 = 0x3fc0
        Tensor wire = shorts(DType.BFLOAT16, (short) 0x3f80, (short) 0xc040, (short) 0x3fc0);
        assertArrayEquals(new float[]{1f, -3f, 1.5f}, TensorCodec.decode(wire, "b").data());
    }

    @Test
    void rejectsByteLengthThatDoesNotMatchTheShape() {
        Tensor wire = TensorCodec.encode(HostTensor.of(new float[6], 2, 3)).toBuilder().setShape(1, 4).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TensorCodec.decode(wire, "ForwardRequest.hidden"));
        assertTrue(e.getMessage().contains("ForwardRequest.hidden"), e.getMessage());
        assertTrue(e.getMessage().contains("needs 32 bytes, got 24"), e.getMessage());
    }

    @Test
    void rejectsNegativeDimensionAndUnknownDtype() {
        Tensor negative = Tensor.newBuilder().setDtype(DType.FLOAT32).addShape(-1).build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(negative, "x"))
                .getMessage().contains("negative dimension"));
        Tensor unspecified = Tensor.newBuilder().addShape(1).setData(ByteString.copyFrom(new byte[4])).build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(unspecified, "x"))
                .getMessage().contains("unsupported dtype DTYPE_UNSPECIFIED"));
        Tensor huge = Tensor.newBuilder().setDtype(DType.FLOAT32).addShape(1L << 40).addShape(1L << 40).build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(huge, "x"))
                .getMessage().contains("too many elements"));
    }

    @Test
    void checksExpectedShape() {
        Tensor wire = TensorCodec.encode(HostTensor.of(new float[12], 3, 4));
        assertArrayEquals(new long[]{3, 4}, TensorCodec.decode(wire, "hidden", -1, 4).shape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TensorCodec.decode(wire, "hidden", -1, 64));
        assertEquals("hidden: expected shape [*, 64], got [3, 4]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(wire, "hidden", 4));
    }

    private static Tensor shorts(DType dtype, short... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : values) {
            buf.putShort(v);
        }
        return Tensor.newBuilder().setDtype(dtype).addShape(values.length)
                .setData(ByteString.copyFrom(buf.array())).build();
    }
}
