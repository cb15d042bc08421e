package io.convllava.common.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.convllava.common.checkpoint.Widening;
import io.convllava.common.tensor.HostTensor;
import io.convllava.proto.v1.DType;
import io.convllava.proto.v1.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.Arrays;

/**
 * Converts between {@link HostTensor} and the wire {@link Tensor}: raw little-endian bytes with an explicit dtype
 * and shape. Encoding always writes FLOAT32; decoding also accepts FLOAT16 and BFLOAT16 and widens them.
 * Malformed tensors (unknown dtype, negative dimension, byte length that does not match the shape) are rejected
 * with an {@link IllegalArgumentException} naming the field.
 */
public final class TensorCodec {
    private static final int CHUNK = 8192;

    private TensorCodec() {
    }

    /** FLOAT32 little-endian; the freshly written byte array is wrapped, not copied again. */
    public static Tensor encode(HostTensor tensor) {
        byte[] bytes = new byte[Math.multiplyExact(tensor.data().length, Float.BYTES)];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(tensor.data());
        Tensor.Builder builder = Tensor.newBuilder().setDtype(DType.FLOAT32)
                .setData(UnsafeByteOperations.unsafeWrap(bytes));
        for (long d : tensor.shape()) {
            builder.addShape(d);
        }
        return builder.build();
    }

    /** Decodes a tensor; {@code field} names it in error messages (e.g. "ForwardRequest.hidden"). */
    public static HostTensor decode(Tensor tensor, String field) {
        long[] shape = shapeOf(tensor, field);
        int elementSize = elementSize(tensor.getDtype(), field);
        long elements = elementCount(shape, field);
        ByteString data = tensor.getData();
        if (elements * elementSize != data.size()) {
            throw new IllegalArgumentException(field + ": shape " + Arrays.toString(shape) + " of " + tensor.getDtype()
                    + " needs " + elements * elementSize + " bytes, got " + data.size());
        }
        float[] values = new float[(int) elements];
        ByteBuffer bytes = data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        switch (tensor.getDtype()) {
            case FLOAT32 -> bytes.asFloatBuffer().get(values);
            case FLOAT16 -> widen(bytes.asShortBuffer(), values, true);
            case BFLOAT16 -> widen(bytes.asShortBuffer(), values, false);
            default -> throw new IllegalStateException("unreachable: dtype checked above");
        }
        return new HostTensor(shape, values);
    }

    /**
     * Decodes a tensor that must have {@code rank} dimensions, of which those given as >= 0 in {@code expected}
     * must match exactly (-1 = any), e.g. {@code decode(t, "hidden", -1, hiddenSize)} for [T, H].
     */
    public static HostTensor decode(Tensor tensor, String field, long... expected) {
        long[] shape = shapeOf(tensor, field);
        boolean ok = shape.length == expected.length;
        for (int i = 0; ok && i < shape.length; i++) {
            ok = expected[i] < 0 || shape[i] == expected[i];
        }
        if (!ok) {
            throw new IllegalArgumentException(field + ": expected shape " + describe(expected) + ", got "
                    + Arrays.toString(shape));
        }
        return decode(tensor, field);
    }

    private static long[] shapeOf(Tensor tensor, String field) {
        long[] shape = new long[tensor.getShapeCount()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = tensor.getShape(i);
            if (shape[i] < 0) {
                throw new IllegalArgumentException(field + ": negative dimension " + i + " in shape "
                        + tensor.getShapeList());
            }
        }
        return shape;
    }

    private static int elementSize(DType dtype, String field) {
        return switch (dtype) {
            case FLOAT32 -> 4;
            case FLOAT16, BFLOAT16 -> 2;
            default -> throw new IllegalArgumentException(field + ": unsupported dtype " + dtype
                    + " (expected FLOAT32, FLOAT16 or BFLOAT16)");
        };
    }

    private static long elementCount(long[] shape, String field) {
        long n = 1;
        for (long d : shape) {
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                n = Long.MAX_VALUE;
            }
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(field + ": shape " + Arrays.toString(shape)
                    + " has too many elements for one tensor");
        }
        return n;
    }

    private static void widen(ShortBuffer src, float[] dst, boolean half) {
        short[] chunk = new short[Math.min(CHUNK, dst.length)];
        int done = 0;
        while (done < dst.length) {
            int n = Math.min(chunk.length, dst.length - done);
            src.get(chunk, 0, n);
            for (int i = 0; i < n; i++) {
                dst[done + i] = half ? Widening.halfToFloat(chunk[i]) : Widening.bf16ToFloat(chunk[i]);
            }
            done += n;
        }
    }

    private static String describe(long[] expected) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < expected.length; i++) {
            sb.append(i > 0 ? ", " : "").append(expected[i] < 0 ? "*" : Long.toString(expected[i]));
        }
        return sb.append(']').toString();
    }
}
