package io.convllava.llm.model;

import java.nio.ByteBuffer;

import io.convllava.common.checkpoint.TensorInfo;
import io.convllava.common.checkpoint.TensorSource;

import java.nio.FloatBuffer;
import java.util.Set;
import java.util.TreeSet;

/** Passes everything through to another source and remembers which tensors were read. */
final class RecordingTensorSource implements TensorSource {
    private final TensorSource inner;
    private final Set<String> read = new TreeSet<>();

    RecordingTensorSource(TensorSource inner) {
        this.inner = inner;
    }

    Set<String> read() {
        return read;
    }

    @Override
    public Set<String> names() {
        return inner.names();
    }

    @Override
    public TensorInfo info(String name) {
        return inner.info(name);
    }

    @Override
    public FloatBuffer readFloat(String name) {
        read.add(name);
        return inner.readFloat(name);
    }

    @Override
    public ByteBuffer readRaw(String name) {
        read.add(name);
        return inner.readRaw(name);
    }

    @Override
    public void close() {
        inner.close();
    }
}
