package io.convllava.vision.model;

import io.convllava.common.checkpoint.CheckpointException;
import io.convllava.common.checkpoint.DType;
import io.convllava.common.checkpoint.TensorInfo;
import io.convllava.common.checkpoint.TensorSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Float32 tensors held in memory, for tests that build small random models. */
final class InMemoryTensorSource implements TensorSource {
    private static final Path FILE = Path.of("in-memory");

    private final Map<String, float[]> data = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Random random;

    InMemoryTensorSource(long seed) {
        this.random = new Random(seed);
    }

    /** Adds a tensor of N(mean, std^2) values and returns them. */
    float[] put(String name, double mean, double std, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] values = new float[Math.toIntExact(n)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (mean + std * random.nextGaussian());
        }
        data.put(name, values);
        shapes.put(name, shape);
        return values;
    }

    float[] get(String name) {
        return data.get(name);
    }

    @Override
    public Set<String> names() {
        return data.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        if (!data.containsKey(name)) {
            throw new CheckpointException("no tensor '" + name + "' in " + FILE);
        }
        return new TensorInfo(name, DType.F32, shapes.get(name), FILE);
    }

    @Override
    public FloatBuffer readFloat(String name) {
        float[] values = data.get(name);
        if (values == null) {
            throw new CheckpointException("no tensor '" + name + "' in " + FILE);
        }
        FloatBuffer buffer = ByteBuffer.allocateDirect(values.length * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        buffer.put(values).flip();
        return buffer;
    }

    @Override
    public void close() {
    }
}
