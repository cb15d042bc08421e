package io.convllava.vision.image;

import io.convllava.common.tensor.HostTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the fixtures' {@code .npy} files (NumPy v1.0, {@code <f4}, C order). A stand-in until
 * {@code io.convllava.common.io.Npy} reaches main; then use that instead.
 */
final class ReferencePixels {
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private ReferencePixels() {
    }

    static HostTensor readNpy(Path file) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.get(0) != (byte) 0x93 || buf.get(6) != 1) {
            throw new IOException(file + ": not a NumPy v1.0 .npy file");
        }
        int headerLength = Short.toUnsignedInt(buf.getShort(8));
        String header = new String(buf.array(), 10, headerLength, StandardCharsets.ISO_8859_1);
        if (!header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False")) {
            throw new IOException(file + ": expected little-endian float32 in C order, header " + header.trim());
        }
        Matcher m = SHAPE.matcher(header);
        if (!m.find()) {
            throw new IOException(file + ": no shape in header " + header.trim());
        }
        long[] shape = Arrays.stream(m.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .mapToLong(Long::parseLong).toArray();
        buf.position(10 + headerLength);
        float[] data = new float[buf.remaining() / 4];
        buf.asFloatBuffer().get(data);
        return new HostTensor(shape, data);
    }
}
