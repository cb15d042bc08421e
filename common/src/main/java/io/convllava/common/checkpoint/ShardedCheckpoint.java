package io.convllava.common.checkpoint;

import java.nio.ByteBuffer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
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
        Path dir = index.toAbsolutePath().getParent();
        Map<String, Path> result = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : weightMap.entrySet()) {
            String shardName = e.getValue().getAsString();
            Path shard = dir.resolve(shardName);
            if (!Files.isRegularFile(shard)) {
                throw new CheckpointException("shard '" + shardName + "' listed in checkpoint index " + index
                        + " (for tensor '" + e.getKey() + "') is missing: no file " + shard);
            }
            result.put(e.getKey(), shard);
        }
        return Collections.unmodifiableMap(result);
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
