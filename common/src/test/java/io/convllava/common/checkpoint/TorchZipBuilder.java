package io.convllava.common.checkpoint;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Hand-written {@code torch.save}-style archives for tests: a pickle assembled opcode by opcode plus stored
 * storage entries, so the reader can be tested on shapes the fixtures lack (offsets, strides, foreign globals).
 */
final class TorchZipBuilder {
    private final ByteArrayOutputStream pickle = new ByteArrayOutputStream();
    private final ByteArrayOutputStream[] storages = new ByteArrayOutputStream[16];
    private int paddingEntries;
    private final Map<String, byte[]> extraEntries = new LinkedHashMap<>();

    /** {@code {'w': tensor}} over a float storage {@code 0} holding 1, 2, 3, whatever view and element count are declared. */
    static TorchZipBuilder oneFloatTensor(long numel, long offset, long[] shape, long[] stride) {
        return new TorchZipBuilder()
                .op(0x80, 2, '}', '(')
                .tensorItem("w", "FloatStorage", 0, numel, offset, shape, stride)
                .op('u', '.')
                .floatStorage(0, 1, 2, 3);
    }

    TorchZipBuilder op(int... bytes) {
        for (int b : bytes) {
            pickle.write(b);
        }
        return this;
    }

    TorchZipBuilder global(String module, String name) {
        op('c');
        pickle.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    TorchZipBuilder string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op(0x8c, b.length);
        pickle.writeBytes(b);
        return this;
    }

    /** BININT, or LONG1 with 8 bytes for a value beyond 32 bits. */
    TorchZipBuilder integer(long v) {
        if (v != (int) v) {
            op(0x8a, 8);
            for (int i = 0; i < 8; i++) {
                op((int) (v >> (8 * i)) & 0xff);
            }
            return this;
        }
        return op('J', (int) v & 0xff, (int) (v >> 8) & 0xff, (int) (v >> 16) & 0xff, (int) (v >> 24) & 0xff);
    }

    /** {@code count} copies of {@code opcode}: pickles that exceed the unpickler's limits. */
    TorchZipBuilder repeat(int opcode, int count) {
        for (int i = 0; i < count; i++) {
            pickle.write(opcode);
        }
        return this;
    }

    TorchZipBuilder intTuple(long... values) {
        op('(');
        for (long v : values) {
            integer(v);
        }
        return op('t');
    }

    /**
     * Pushes {@code _rebuild_tensor_v2(persistent storage (key, storageType, numel), offset, shape, stride, False,
     * OrderedDict())}, as torch.save writes a tensor.
     */
    TorchZipBuilder tensor(String storageType, int key, long numel, long offset, long[] shape, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").op('(');
        op('(').string("storage").global("torch", storageType).string(Integer.toString(key)).string("cpu")
                .integer(numel).op('t', 'Q');
        return integer(offset).intTuple(shape).intTuple(stride).op(0x89)
                .global("collections", "OrderedDict").op(')', 'R', 't', 'R');
    }

    /** A dict item {@code name: tensor(...)}; call between {@code op('}', '(')} and {@code op('u')}. */
    TorchZipBuilder tensorItem(String name, String storageType, int key, long numel, long offset, long[] shape,
                               long[] stride) {
        return string(name).tensor(storageType, key, numel, offset, shape, stride);
    }

    TorchZipBuilder floatStorage(int key, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        storages[key] = new ByteArrayOutputStream();
        storages[key].writeBytes(b.array());
        return this;
    }

    TorchZipBuilder rawStorage(int key, byte[] bytes) {
        storages[key] = new ByteArrayOutputStream();
        storages[key].writeBytes(bytes);
        return this;
    }

    /**
     * Adds empty filler entries before the storages; 65535 or more make the writer switch to a zip64
     * end-of-central-directory, which a reader must follow to find the storages at all.
     */
    TorchZipBuilder paddingEntries(int count) {
        paddingEntries = count;
        return this;
    }

    /** An additional stored entry, named as given (e.g. one a torch.save archive never has). */
    TorchZipBuilder extraEntry(String name, byte[] data) {
        extraEntries.put(name, data);
        return this;
    }

    void write(Path file) throws IOException {
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file));
             ZipOutputStream zip = new ZipOutputStream(os)) {
            stored(zip, "archive/data.pkl", pickle.toByteArray());
            stored(zip, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < paddingEntries; i++) {
                stored(zip, "archive/padding/" + i, new byte[0]);
            }
            for (Map.Entry<String, byte[]> e : extraEntries.entrySet()) {
                stored(zip, e.getKey(), e.getValue());
            }
            for (int i = 0; i < storages.length; i++) {
                if (storages[i] != null) {
                    stored(zip, "archive/data/" + i, storages[i].toByteArray());
                }
            }
        }
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
