package io.convllava.common.io;

import io.convllava.common.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** NumPy {@code .npy} files holding little-endian float32 ({@code <f4}) arrays in C order. */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** Reads a format 1.0/2.0/3.0 {@code .npy} file; only {@code <f4} in C order is accepted. */
    public static HostTensor read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC)) {
            throw new IllegalArgumentException(file + " is not a .npy file (bad magic)");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int major = bytes[6];
        int headerLength;
        int headerStart;
        if (major == 1) {
            headerLength = buf.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            headerLength = buf.getInt(8);
            headerStart = 12;
        } else {
            throw new IllegalArgumentException(file + " has unsupported .npy format version " + major);
        }
        if (headerLength < 0 || headerStart + headerLength > bytes.length) {
            throw new IllegalArgumentException(file + " is truncated: header of " + headerLength + " bytes");
        }
        String header = new String(bytes, headerStart, headerLength, StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, file, "descr");
        if (!descr.equals("<f4")) {
            throw new IllegalArgumentException(file + " holds dtype '" + descr + "', expected '<f4' (float32)");
        }
        if (group(FORTRAN, header, file, "fortran_order").equals("True")) {
            throw new IllegalArgumentException(file + " is in Fortran order, expected C order");
        }
        long[] shape = parseShape(group(SHAPE, header, file, "shape"), file);
        long numel = 1;
        for (long d : shape) {
            numel *= d;
        }
        int dataStart = headerStart + headerLength;
        if ((long) bytes.length - dataStart != numel * Float.BYTES) {
            throw new IllegalArgumentException(file + " has " + (bytes.length - dataStart) + " data bytes, shape "
                    + Arrays.toString(shape) + " needs " + numel * Float.BYTES);
        }
        float[] data = new float[(int) numel];
        buf.position(dataStart);
        buf.asFloatBuffer().get(data);
        return new HostTensor(shape, data);
    }

    private static String group(Pattern p, String header, Path file, String field) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IllegalArgumentException(file + " has no '" + field + "' in its header: " + header.trim());
        }
        return m.group(1);
    }

    private static long[] parseShape(String tuple, Path file) {
        String[] parts = tuple.split(",");
        return Arrays.stream(parts).map(String::trim).filter(s -> !s.isEmpty()).mapToLong(s -> {
            try {
                return Long.parseLong(s.endsWith("L") ? s.substring(0, s.length() - 1) : s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + " has a malformed shape (" + tuple + ")", e);
            }
        }).toArray();
    }

    /** Writes format 1.0, {@code <f4}, C order, header padded to 64 bytes like NumPy. */
    public static void write(Path file, HostTensor tensor) {
        StringBuilder shape = new StringBuilder("(");
        for (long d : tensor.shape()) {
            shape.append(d).append(", ");
        }
        if (tensor.rank() == 1) {
            shape.setLength(shape.length() - 1); // "(n,)"
        } else if (tensor.rank() > 1) {
            shape.setLength(shape.length() - 2);
        }
        shape.append(')');
        StringBuilder header = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': ")
                .append(shape).append(", }");
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer buf = ByteBuffer.allocate(10 + headerBytes.length + tensor.data().length * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) headerBytes.length).put(headerBytes);
        buf.asFloatBuffer().put(tensor.data());
        try {
            Files.write(file, buf.array());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
