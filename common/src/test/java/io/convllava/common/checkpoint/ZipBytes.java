package io.convllava.common.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A zip archive's bytes, to damage one field of its directory at a time in tests. */
final class ZipBytes {
    static final int CENTRAL_METHOD = 10;
    static final int CENTRAL_COMPRESSED_SIZE = 20;
    static final int CENTRAL_SIZE = 24;
    static final int CENTRAL_LOCAL_OFFSET = 42;
    static final int CENTRAL_NAME = 46;
    static final int EOCD_COUNT = 10;
    static final int EOCD_CD_OFFSET = 16;

    private final ByteBuffer b;

    private ZipBytes(byte[] bytes) {
        this.b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    static ZipBytes of(Path file) throws IOException {
        return new ZipBytes(Files.readAllBytes(file));
    }

    /** Offset of the end-of-central-directory record. */
    int eocd() {
        for (int i = b.capacity() - 22; i >= 0; i--) {
            if (b.getInt(i) == 0x06054b50) {
                return i;
            }
        }
        throw new AssertionError("no end-of-central-directory record");
    }

    /** Offset of the central directory record of the entry named {@code name}. */
    int central(String name) {
        int at = b.getInt(eocd() + EOCD_CD_OFFSET);
        while (b.getInt(at) == 0x02014b50) {
            int nameLength = b.getShort(at + 28) & 0xffff;
            String n = new String(b.array(), at + CENTRAL_NAME, nameLength, StandardCharsets.UTF_8);
            if (n.equals(name)) {
                return at;
            }
            at += CENTRAL_NAME + nameLength + (b.getShort(at + 30) & 0xffff) + (b.getShort(at + 32) & 0xffff);
        }
        throw new AssertionError("no central directory record for " + name);
    }

    ZipBytes putShort(int at, int value) {
        b.putShort(at, (short) value);
        return this;
    }

    ZipBytes putInt(int at, long value) {
        b.putInt(at, (int) value);
        return this;
    }

    ZipBytes putBytes(int at, byte[] bytes) {
        b.put(at, bytes);
        return this;
    }

    void write(Path file) throws IOException {
        Files.write(file, b.array());
    }
}
