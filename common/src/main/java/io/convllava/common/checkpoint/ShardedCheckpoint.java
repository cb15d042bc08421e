package io.convllava.common.checkpoint;

import java.nio.ByteBuffer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Several shard files joined by an index ({@code model.safetensors.index.json} or
 * {@code pytorch_model.bin.index.json}, whose {@code weight_map} maps each key to its shard). A shard is opened
 * only when one of its tensors is first asked for, so a process that needs some layers never touches the others.
 */
public final class ShardedCheckpoint implements TensorSource {
    /** A 7B model's index is about 70 KB (one line per tensor); this leaves room for hundreds of thousands of tensors. */
    static final long MAX_INDEX_BYTES = 64L << 20;

    private final Path index;
    private final Map<String, Path> shardOfKey;
    private final Map<Path, TensorSource> openShards = new HashMap<>();

    public ShardedCheckpoint(Path index) {
        this.index = index;
        this.shardOfKey = readWeightMap(index);
    }

    private static Map<String, Path> readWeightMap(Path index) {
        JsonObject weightMap;
        try {
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw new CheckpointException("checkpoint index " + index + " has " + size + " bytes, more than the limit"
                        + " of " + MAX_INDEX_BYTES);
            }
            JsonElement weightMapJson = JsonParser.parseString(Files.readString(index)).getAsJsonObject().get("weight_map");
            if (weightMapJson == null || !weightMapJson.isJsonObject()) {
                throw new CheckpointException("checkpoint index " + index + " has no 'weight_map' object");
            }
            weightMap = weightMapJson.getAsJsonObject();
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint index " + index + ": " + e, e);
        } catch (JsonParseException | IllegalStateException e) {
            throw new CheckpointException("cannot parse checkpoint index " + index + ": " + e.getMessage(), e);
        }
        Path dir = index.toAbsolutePath().getParent().normalize();
        Map<String, Path> shards = new HashMap<>();
        Map<String, Path> result = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : weightMap.entrySet()) {
            JsonElement value = e.getValue();
            if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
                throw new CheckpointException("checkpoint index " + index + " maps tensor '" + e.getKey()
                        + "' to something other than a shard file name");
            }
            String shardName = value.getAsString();
            Path shard = shards.get(shardName);
            if (shard == null) {
                shard = shardPath(index, dir, shardName, e.getKey());
                shards.put(shardName, shard);
            }
            result.put(e.getKey(), shard);
        }
        return Collections.unmodifiableMap(result);
    }

    /**
     * The shard {@code name} in {@code dir}, which it must not leave: absolute names and names that climb out with
     * {@code ..} are refused. The check is on the name only: a shard may be a symlink (as in the Hugging Face cache).
     */
    private static Path shardPath(Path index, Path dir, String name, String tensor) {
        String where = "shard '" + name + "' listed in checkpoint index " + index + " (for tensor '" + tensor + "')";
        Path shard;
        try {
            shard = dir.resolve(name).normalize();
        } catch (InvalidPathException e) {
            throw new CheckpointException(where + " is not a valid file name", e);
        }
        if (name.isEmpty() || Path.of(name).isAbsolute() || !shard.startsWith(dir) || shard.equals(dir)) {
            throw new CheckpointException(where + " lies outside the checkpoint directory " + dir);
        }
        if (!Files.isRegularFile(shard)) {
            throw new CheckpointException(where + " is missing: no file " + shard);
        }
        return shard;
    }

    public Path index() {
        return index;
    }

    @Override
    public Set<String> names() {
        return shardOfKey.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        TensorSource shard = shardFor(name);
        requireInShard(shard, name);
        return shard.info(name);
    }

    @Override
    public FloatBuffer readFloat(String name) {
        TensorSource shard = shardFor(name);
        requireInShard(shard, name);
        return shard.readFloat(name);
    }

    @Override
    public ByteBuffer readRaw(String name) {
        TensorSource shard = shardFor(name);
        requireInShard(shard, name);
        return shard.readRaw(name);
    }

    private void requireInShard(TensorSource shard, String name) {
        if (!shard.contains(name)) {
            throw new CheckpointException("checkpoint index " + index + " places tensor '" + name + "' in "
                    + shardOfKey.get(name) + ", but that shard does not contain it");
        }
    }

    private TensorSource shardFor(String name) {
        Path shard = shardOfKey.get(name);
        if (shard == null) {
            throw new CheckpointException("no tensor '" + name + "' in checkpoint index " + index);
        }
        synchronized (openShards) {
            TensorSource source = openShards.get(shard);
            if (source == null) {
                source = Checkpoints.openFile(shard);
                openShards.put(shard, source);
            }
            return source;
        }
    }

    @Override
    public void close() {
        synchronized (openShards) {
            openShards.values().forEach(TensorSource::close);
            openShards.clear();
        }
    }

    @Override
    public String toString() {
        return index.toString();
    }
}
