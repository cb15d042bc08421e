package io.convllava.common.checkpoint;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The central directory of a zip archive (what {@code torch.save} writes), including zip64 archives over 4 GiB.
 * Entries are located, not extracted: stored (uncompressed) entries are then mapped straight from the file.
 */
final class ZipDirectory {
    static final int STORED = 0;

    private static final int EOCD_SIGNATURE = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
    private static final int ZIP64_EOCD_SIGNATURE = 0x06064b50;
    private static final int CENTRAL_SIGNATURE = 0x02014b50;
    private static final int LOCAL_SIGNATURE = 0x04034b50;
    private static final int EOCD_SIZE = 22;
    private static final int CENTRAL_HEADER_SIZE = 46;
    private static final int MAX_COMMENT = 0xffff;
    /**
     * A central directory record takes about 100 bytes, a torch.save shard has one per tensor plus a few: this leaves
     * room for over 600,000 entries while bounding the heap a crafted directory can claim.
     */
    static final long MAX_CENTRAL_DIRECTORY_BYTES = 64L << 20;

    /** One entry: compression method, sizes and where its local header starts. */
    record Entry(String name, int method, long compressedSize, long size, long localHeaderOffset) {
    }

    private final MappedFile file;
    private final Map<String, Entry> entries;

    ZipDirectory(MappedFile file) {
        this.file = file;
        this.entries = readCentralDirectory();
    }

    Map<String, Entry> entries() {
        return entries;
    }

    /** Where the entry's bytes start: after its local header, whose name and extra lengths may differ from the central ones. */
    long dataOffset(Entry e) {
        ByteBuffer local = file.read(e.localHeaderOffset(), 30, "local zip header of '" + e.name() + "'");
        if (local.getInt(0) != LOCAL_SIGNATURE) {
            throw corrupt("no local header for entry '" + e.name() + "' at offset " + e.localHeaderOffset());
        }
        long offset = e.localHeaderOffset() + 30 + (local.getShort(26) & 0xffff) + (local.getShort(28) & 0xffff);
        file.requireRange(offset, e.compressedSize(), "zip entry '" + e.name() + "'");
        return offset;
    }

    private Map<String, Entry> readCentralDirectory() {
        int tailLength = (int) Math.min(file.size(), EOCD_SIZE + MAX_COMMENT);
        long tailStart = file.size() - tailLength;
        ByteBuffer tail = file.read(tailStart, tailLength, "zip end-of-central-directory");
        int eocd = -1;
        for (int i = tailLength - EOCD_SIZE; i >= 0; i--) {
            if (tail.getInt(i) == EOCD_SIGNATURE) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            throw corrupt("no zip end-of-central-directory record (truncated, or not a torch.save file)");
        }
        long count = tail.getShort(eocd + 10) & 0xffff;
        long cdSize = tail.getInt(eocd + 12) & 0xffffffffL;
        long cdOffset = tail.getInt(eocd + 16) & 0xffffffffL;
        if (count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
            long locator = tailStart + eocd - 20;
            if (locator < 0) {
                throw corrupt("zip64 end-of-central-directory locator missing");
            }
            ByteBuffer loc = file.read(locator, 20, "zip64 end-of-central-directory locator");
            if (loc.getInt(0) != ZIP64_LOCATOR_SIGNATURE) {
                throw corrupt("zip64 end-of-central-directory locator missing");
            }
            ByteBuffer z = file.read(loc.getLong(8), 56, "zip64 end-of-central-directory record");
            if (z.getInt(0) != ZIP64_EOCD_SIGNATURE) {
                throw corrupt("zip64 end-of-central-directory record missing");
            }
            count = z.getLong(32);
            cdSize = z.getLong(40);
            cdOffset = z.getLong(48);
        }
        if (cdSize < 0 || cdSize > MAX_CENTRAL_DIRECTORY_BYTES) {
            throw corrupt("central directory of " + cdSize + " bytes (limit " + MAX_CENTRAL_DIRECTORY_BYTES + ")");
        }
        if (count < 0 || count > cdSize / CENTRAL_HEADER_SIZE) {
            throw corrupt("the end-of-central-directory record declares " + count + " entries, but a central"
                    + " directory of " + cdSize + " bytes holds at most " + cdSize / CENTRAL_HEADER_SIZE);
        }
        ByteBuffer cd = file.read(cdOffset, (int) cdSize, "zip central directory");
        Map<String, Entry> result = new LinkedHashMap<>();
        for (long i = 0; i < count; i++) {
            Entry e = readCentralEntry(cd);
            if (result.put(e.name(), e) != null) {
                throw corrupt("entry '" + e.name() + "' appears twice");
            }
        }
        return Collections.unmodifiableMap(result);
    }

    private Entry readCentralEntry(ByteBuffer cd) {
        int at = cd.position();
        if (cd.remaining() < CENTRAL_HEADER_SIZE || cd.getInt(at) != CENTRAL_SIGNATURE) {
            throw corrupt("bad central directory record at offset " + at);
        }
        int method = cd.getShort(at + 10) & 0xffff;
        long compressedSize = cd.getInt(at + 20) & 0xffffffffL;
        long size = cd.getInt(at + 24) & 0xffffffffL;
        int nameLength = cd.getShort(at + 28) & 0xffff;
        int extraLength = cd.getShort(at + 30) & 0xffff;
        int commentLength = cd.getShort(at + 32) & 0xffff;
        long localHeaderOffset = cd.getInt(at + 42) & 0xffffffffL;
        if (cd.remaining() < CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength) {
            throw corrupt("truncated central directory record at offset " + at);
        }
        byte[] nameBytes = new byte[nameLength];
        cd.position(at + CENTRAL_HEADER_SIZE);
        cd.get(nameBytes);
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        requireSafeName(name);
        // zip64 extra field (id 1): the 64-bit values of whichever fields are saturated, in this order
        int extra = at + CENTRAL_HEADER_SIZE + nameLength;
        int extraEnd = extra + extraLength;
        while (extra + 4 <= extraEnd) {
            int id = cd.getShort(extra) & 0xffff;
            int length = cd.getShort(extra + 2) & 0xffff;
            int fieldEnd = extra + 4 + length;
            if (fieldEnd > extraEnd) {
                throw corrupt("extra field of entry '" + name + "' runs past its record");
            }
            if (id == 1) {
                int p = extra + 4;
                if (size == 0xffffffffL) {
                    size = zip64Value(cd, p, fieldEnd, name, "size");
                    p += 8;
                }
                if (compressedSize == 0xffffffffL) {
                    compressedSize = zip64Value(cd, p, fieldEnd, name, "compressed size");
                    p += 8;
                }
                if (localHeaderOffset == 0xffffffffL) {
                    localHeaderOffset = zip64Value(cd, p, fieldEnd, name, "local header offset");
                }
            }
            extra = fieldEnd;
        }
        cd.position(extraEnd + commentLength);
        if (size < 0 || compressedSize < 0 || localHeaderOffset < 0) {
            throw corrupt("entry '" + name + "' has a negative size or offset");
        }
        if (method == STORED && size != compressedSize) {
            throw corrupt("stored entry '" + name + "' declares " + size + " bytes but occupies " + compressedSize);
        }
        if (localHeaderOffset > file.size() - 30) {
            throw corrupt("entry '" + name + "' starts at offset " + localHeaderOffset + ", outside the file of "
                    + file.size() + " bytes");
        }
        return new Entry(name, method, compressedSize, size, localHeaderOffset);
    }

    private long zip64Value(ByteBuffer cd, int p, int fieldEnd, String name, String field) {
        if (p + 8 > fieldEnd) {
            throw corrupt("zip64 extra field of entry '" + name + "' lacks its " + field);
        }
        return cd.getLong(p);
    }

    /** torch.save names entries {@code <archive>/...}; an absolute or climbing name is a crafted archive. */
    private void requireSafeName(String name) {
        boolean climbs = false;
        for (String segment : name.split("[/\\\\]", -1)) {
            climbs |= segment.equals("..");
        }
        if (name.isEmpty() || name.startsWith("/") || name.startsWith("\\") || climbs || name.indexOf('\0') >= 0) {
            throw corrupt("entry name '" + name + "' is empty, absolute, or contains '..' or a NUL");
        }
    }

    private CheckpointException corrupt(String problem) {
        return new CheckpointException(file.path() + " is not a valid zip archive: " + problem);
    }
}
