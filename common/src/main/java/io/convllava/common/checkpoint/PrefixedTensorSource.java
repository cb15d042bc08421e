package io.convllava.common.checkpoint;

import java.nio.ByteBuffer;

import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * A view of the keys of another source that start with {@code prefix}, with the prefix removed
 * (e.g. {@code model.vision_tower.vision_tower.embeddings.…} seen as {@code embeddings.…}). Closing the view closes
 * the underlying source.
 */
public final class PrefixedTensorSource implements TensorSource {
    private final TensorSource inner;
    private final String prefix;
    private final Set<String> names;

    public PrefixedTensorSource(TensorSource inner, String prefix) {
        this(inner, prefix, name -> true);
    }

    /** Only the stripped keys accepted by {@code keep} are visible. */
    public PrefixedTensorSource(TensorSource inner, String prefix, Predicate<String> keep) {
        this.inner = inner;
        this.prefix = prefix;
        Set<String> visible = new TreeSet<>();
        for (String name : inner.names()) {
            if (name.startsWith(prefix) && keep.test(name.substring(prefix.length()))) {
                visible.add(name.substring(prefix.length()));
            }
        }
        this.names = Collections.unmodifiableSet(visible);
    }

    public String prefix() {
        return prefix;
    }

    @Override
    public Set<String> names() {
        return names;
    }

    @Override
    public TensorInfo info(String name) {
        return inner.info(innerName(name));
    }

    @Override
    public FloatBuffer readFloat(String name) {
        return inner.readFloat(innerName(name));
    }

    @Override
    public ByteBuffer readRaw(String name) {
        return inner.readRaw(innerName(name));
    }

    private String innerName(String name) {
        if (!names.contains(name)) {
            throw new CheckpointException("no tensor '" + name + "' (stored as '" + prefix + name + "') in " + inner);
        }
        return prefix + name;
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public String toString() {
        return inner + " [prefix '" + prefix + "']";
    }
}
