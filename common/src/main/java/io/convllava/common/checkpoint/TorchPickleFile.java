package io.convllava.common.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.function.LongConsumer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A PyTorch {@code .bin}/{@code .pt} state dict as {@code torch.save} writes it: a zip holding
 * {@code <archive>/data.pkl} (the pickled dict of tensors, read with {@link StateDictUnpickler}),
 * {@code <archive>/data/<key>} (one uncompressed entry per storage) and optionally {@code <archive>/byteorder}.
 * Opening reads only the directory and the pickle; a tensor's storage is memory-mapped when it is asked for.
 */
public final class TorchPickleFile extends MappedCheckpointFile {
    /** data.pkl of even the largest checkpoints is a few MB; anything far bigger is not a state dict. */
    private static final long MAX_PICKLE_BYTES = 1L << 30;

    private final ZipDirectory zip;
    private final String archive;
    private final ByteOrder order;
    private final Map<String, PickledTensor> tensors;
    private final Map<String, TensorInfo> infos;

    public TorchPickleFile(Path path) {
        super(new MappedFile(path));
        try {
            this.zip = new ZipDirectory(file);
            String pickleEntry = zip.entries().keySet().stream()
                    .filter(n -> n.equals("data.pkl") || n.endsWith("/data.pkl")).findFirst()
                    .orElseThrow(() -> new CheckpointException(path + " has no data.pkl: not a torch.save archive"));
            this.archive = pickleEntry.substring(0, pickleEntry.length() - "data.pkl".length());
            this.order = byteOrder();
            this.tensors = readTensors(StateDictUnpickler.load(entryBytes(zip.entries().get(pickleEntry)), path));
            Map<String, TensorInfo> info = new TreeMap<>();
            tensors.forEach((name, t) -> info.put(name, new TensorInfo(name, t.storage().dtype(), t.shape(), path)));
            this.infos = Collections.unmodifiableMap(info);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private ByteOrder byteOrder() {
        ZipDirectory.Entry e = zip.entries().get(archive + "byteorder");
        if (e == null) {
            return ByteOrder.LITTLE_ENDIAN; // archives without the entry were written on little-endian machines
        }
        String text = new String(entryBytes(e), StandardCharsets.US_ASCII).trim();
        return switch (text) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw new CheckpointException(file.path() + ": unknown byteorder '" + text + "'");
        };
    }

    private byte[] entryBytes(ZipDirectory.Entry e) {
        if (e.size() > MAX_PICKLE_BYTES || e.compressedSize() > MAX_PICKLE_BYTES) {
            throw new CheckpointException(file.path() + ": zip entry '" + e.name() + "' of " + e.size()
                    + " bytes is too large");
        }
        ByteBuffer raw = file.read(zip.dataOffset(e), (int) e.compressedSize(), "zip entry '" + e.name() + "'");
        byte[] bytes = new byte[(int) e.size()];
        if (e.method() == ZipDirectory.STORED) {
            raw.get(bytes);
            return bytes;
        }
        if (e.method() != ZipDirectory.DEFLATED) {
            throw new CheckpointException(file.path() + ": zip entry '" + e.name() + "' uses compression method "
                    + e.method());
        }
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(raw);
            int n = inflater.inflate(bytes);
            if (n != bytes.length) {
                throw new CheckpointException(file.path() + ": zip entry '" + e.name() + "' inflated to " + n
                        + " bytes, expected " + bytes.length);
            }
            return bytes;
        } catch (DataFormatException ex) {
            throw new CheckpointException(file.path() + ": zip entry '" + e.name() + "' is corrupt: " + ex, ex);
        } finally {
            inflater.end();
        }
    }

    private Map<String, PickledTensor> readTensors(Object root) {
        if (!(root instanceof Map<?, ?> dict)) {
            throw new CheckpointException(file.path() + " does not hold a state dict (its pickle root is "
                    + (root == null ? "None" : root.getClass().getSimpleName()) + ")");
        }
        Map<String, PickledTensor> result = new TreeMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (e.getKey() instanceof String name && e.getValue() instanceof PickledTensor t) {
                validate(name, t);
                result.put(name, t);
            }
        }
        return Collections.unmodifiableMap(result);
    }

    private void validate(String name, PickledTensor t) {
        String where = "tensor '" + name + "' in " + file.path();
        if (t.shape().length != t.stride().length) {
            throw new CheckpointException(where + " has shape " + Arrays.toString(t.shape()) + " but stride "
                    + Arrays.toString(t.stride()));
        }
        for (int d = 0; d < t.shape().length; d++) {
            if (t.shape()[d] < 0 || t.stride()[d] < 0) {
                throw new CheckpointException(where + " has a negative size or stride");
            }
        }
        if (t.offset() < 0 || t.offset() + t.span() > t.storage().numel()) {
            throw new CheckpointException(where + " addresses elements [" + t.offset() + ", " + (t.offset() + t.span())
                    + ") of a storage with " + t.storage().numel());
        }
        ZipDirectory.Entry e = storageEntry(name, t);
        if (e.size() < t.storage().numel() * t.storage().dtype().bytes()) {
            throw new CheckpointException(where + ": storage entry '" + e.name() + "' has " + e.size()
                    + " bytes, its " + t.storage().numel() + " " + t.storage().dtype() + " elements need more");
        }
    }

    private ZipDirectory.Entry storageEntry(String name, PickledTensor t) {
        String entryName = archive + "data/" + t.storage().key();
        ZipDirectory.Entry e = zip.entries().get(entryName);
        if (e == null) {
            throw new CheckpointException("tensor '" + name + "' in " + file.path() + " refers to storage '"
                    + entryName + "', which the archive does not contain");
        }
        if (e.method() != ZipDirectory.STORED) {
            throw new CheckpointException("tensor '" + name + "' in " + file.path() + ": storage '" + entryName
                    + "' is compressed; torch.save stores storages uncompressed");
        }
        return e;
    }

    @Override
    public Set<String> names() {
        return infos.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        return lookup(infos, name);
    }

    @Override
    public FloatBuffer readFloat(String name) {
        DType dtype = info(name).dtype();
        PickledTensor t = tensors.get(name);
        long storageStart = zip.dataOffset(storageEntry(name, t));
        long start = storageStart + t.offset() * dtype.bytes();
        String what = "tensor '" + name + "'";
        if (t.isContiguous()) {
            return file.readFloats(start, t.numel(), dtype, order, what);
        }
        return gather(t, start, dtype, what);
    }

    @Override
    public ByteBuffer readRaw(String name) {
        DType dtype = info(name).dtype();
        PickledTensor t = tensors.get(name);
        long start = zip.dataOffset(storageEntry(name, t)) + t.offset() * dtype.bytes();
        int length = file.checkedLength(t.numel() * dtype.bytes(), name);
        if (t.isContiguous() && order == ByteOrder.LITTLE_ENDIAN) {
            return file.map(start, length).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }
        // a strided view or big-endian storage: packed little-endian copy, element by element
        int span = file.checkedLength(t.span() * dtype.bytes(), name);
        ByteBuffer src = file.map(start, span).order(order);
        ByteBuffer dst = ByteBuffer.allocateDirect(length).order(ByteOrder.LITTLE_ENDIAN);
        walk(t, position -> {
            int at = (int) (position * dtype.bytes());
            for (int b = 0; b < dtype.bytes(); b++) {
                dst.put(src.get(order == ByteOrder.LITTLE_ENDIAN ? at + b : at + dtype.bytes() - 1 - b));
            }
        });
        return dst.flip().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A strided view: element by element from one mapping of the storage range it spans. */
    private FloatBuffer gather(PickledTensor t, long start, DType dtype, String what) {
        long spanBytes = t.span() * dtype.bytes();
        if (spanBytes > Integer.MAX_VALUE) {
            throw new CheckpointException(what + " in " + file.path() + " is a non-contiguous view spanning "
                    + spanBytes + " bytes; only views within 2 GiB are supported");
        }
        FloatBuffer dst = file.allocateFloats(t.numel(), what);
        ByteBuffer src = file.map(start, (int) spanBytes).order(order);
        walk(t, position -> dst.put(Widening.element(src, (int) (position * dtype.bytes()), dtype)));
        return dst.flip();
    }

    /** Tells {@code element} each element's position (in elements from the view's start), in row-major order. */
    private static void walk(PickledTensor t, LongConsumer element) {
        long[] shape = t.shape();
        long[] stride = t.stride();
        long[] index = new long[shape.length];
        long position = 0;
        for (long n = t.numel(); n > 0; n--) {
            element.accept(position);
            for (int d = shape.length - 1; d >= 0; d--) {
                position += stride[d];
                if (++index[d] < shape[d]) {
                    break;
                }
                position -= stride[d] * shape[d];
                index[d] = 0;
            }
        }
    }
}
