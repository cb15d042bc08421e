package io.convllava.common.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongConsumer;

/**
 * A PyTorch {@code .bin}/{@code .pt} state dict as {@code torch.save} writes it: a zip holding
 * {@code <archive>/data.pkl} (the pickled dict of tensors, read with {@link StateDictUnpickler}),
 * {@code <archive>/data/<key>} (one uncompressed entry per storage) and optionally {@code <archive>/byteorder}.
 * Opening reads only the directory and the pickle; a tensor's storage is memory-mapped when it is asked for.
 */
public final class TorchPickleFile extends MappedCheckpointFile {
    /**
     * data.pkl takes about 100 bytes per tensor (a 7B model's is well under 1 MB); this leaves room for hundreds of
     * thousands of tensors while bounding the heap a crafted pickle can make the reader use.
     */
    static final long MAX_PICKLE_BYTES = 64L << 20;
    /** The byteorder entry holds "little" or "big". */
    private static final long MAX_BYTEORDER_BYTES = 64;

    private final ZipDirectory zip;
    private final String archive;
    private final ByteOrder order;
    private final Map<String, PickledTensor> tensors;
    private final Map<String, TensorInfo> infos;
    /** File offset of each storage entry's bytes, by storage key, found (and range-checked) when the file is opened. */
    private final Map<String, Long> storageStarts = new HashMap<>();

    public TorchPickleFile(Path path) {
        super(new MappedFile(path));
        try {
            this.zip = new ZipDirectory(file);
            String pickleEntry = zip.entries().keySet().stream()
                    .filter(n -> n.equals("data.pkl") || n.endsWith("/data.pkl")).findFirst()
                    .orElseThrow(() -> new CheckpointException(path + " has no data.pkl: not a torch.save archive"));
            this.archive = pickleEntry.substring(0, pickleEntry.length() - "data.pkl".length());
            this.order = byteOrder();
            byte[] pickle = entryBytes(zip.entries().get(pickleEntry), MAX_PICKLE_BYTES);
            this.tensors = readTensors(StateDictUnpickler.load(pickle, path));
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
        String text = new String(entryBytes(e, MAX_BYTEORDER_BYTES), StandardCharsets.US_ASCII).trim();
        return switch (text) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw new CheckpointException(file.path() + ": unknown byteorder '" + text + "'");
        };
    }

    /**
     * A small entry's bytes. Only stored (uncompressed) entries are accepted, as for storages: torch.save never
     * compresses, and a deflated entry's declared size cannot be checked against the file before inflating it.
     */
    private byte[] entryBytes(ZipDirectory.Entry e, long limit) {
        if (e.method() != ZipDirectory.STORED) {
            throw new CheckpointException(file.path() + ": zip entry '" + e.name() + "' is compressed (method "
                    + e.method() + "); torch.save stores every entry uncompressed");
        }
        if (e.size() > limit) {
            throw new CheckpointException(file.path() + ": zip entry '" + e.name() + "' declares " + e.size()
                    + " bytes, more than the limit of " + limit);
        }
        byte[] bytes = new byte[(int) e.size()];
        file.read(zip.dataOffset(e), bytes.length, "zip entry '" + e.name() + "'").get(bytes);
        return bytes;
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

    /**
     * Checks, with overflow-checked arithmetic, that the view lies inside its storage and the storage inside its zip
     * entry (and so inside the file); afterwards a tensor's sizes and offsets cannot overflow.
     */
    private void validate(String name, PickledTensor t) {
        String where = "tensor '" + name + "' in " + file.path();
        DType dtype = t.storage().dtype();
        TensorShapes.bytes(TensorShapes.numel(t.shape(), where), dtype, where); // first: it bounds the rank
        if (t.shape().length != t.stride().length) {
            throw new CheckpointException(where + " has shape " + Arrays.toString(t.shape()) + " but stride of "
                    + t.stride().length + " dimensions");
        }
        for (long stride : t.stride()) {
            if (stride < 0) {
                throw new CheckpointException(where + " has a negative stride " + Arrays.toString(t.stride()));
            }
        }
        long storageNumel = t.storage().numel();
        if (storageNumel < 0) {
            throw new CheckpointException(where + ": storage '" + t.storage().key() + "' has a negative element count "
                    + storageNumel);
        }
        long storageBytes = TensorShapes.bytes(storageNumel, dtype, where);
        long end;
        try {
            end = t.offset() < 0 ? -1 : Math.addExact(t.offset(), t.span());
        } catch (ArithmeticException e) {
            end = -1;
        }
        if (end < 0 || end > storageNumel) {
            throw new CheckpointException(where + " (offset " + t.offset() + ", shape " + Arrays.toString(t.shape())
                    + ", stride " + Arrays.toString(t.stride()) + ") addresses elements outside its storage '"
                    + t.storage().key() + "' of " + storageNumel);
        }
        ZipDirectory.Entry e = storageEntry(name, t);
        if (e.size() < storageBytes) {
            throw new CheckpointException(where + ": storage entry '" + e.name() + "' has " + e.size()
                    + " bytes, its " + storageNumel + " " + dtype + " elements need " + storageBytes);
        }
        storageStarts.computeIfAbsent(e.name(), n -> zip.dataOffset(e));
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

    private long storageStart(String name, PickledTensor t) {
        return storageStarts.get(storageEntry(name, t).name());
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
        long start = storageStart(name, t) + t.offset() * dtype.bytes();
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
        long start = storageStart(name, t) + t.offset() * dtype.bytes();
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
