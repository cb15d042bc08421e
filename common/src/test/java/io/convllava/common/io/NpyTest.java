package io.convllava.common.io;

import io.convllava.common.tensor.HostTensor;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @TempDir
    Path tmp;

    @Test
    void readsFixturesAndWritesTheSameBytesNumPyDoes() throws Exception {
        for (String suffix : new String[] {"pixels.npy", "projected.npy", "case0-prefill-logits.npy"}) {
            Path ref = Fixtures.file("tiny-convllava", suffix);
            HostTensor t = Npy.read(ref);
            Path out = tmp.resolve(suffix);
            Npy.write(out, t);
            assertArrayEquals(Files.readAllBytes(ref), Files.readAllBytes(out), suffix);
        }
        assertArrayEquals(new long[] {1, 3, 256, 256}, Npy.read(Fixtures.file("tiny-convllava", "pixels.npy")).shape());
        assertArrayEquals(new long[] {32000},
                Npy.read(Fixtures.file("tiny-convllava", "case0-prefill-logits.npy")).shape());
    }

    @Test
    void roundTripsScalarsAndEmptyArrays() {
        for (HostTensor t : new HostTensor[] {HostTensor.of(new float[] {-0f}), HostTensor.of(new float[0], 0, 5),
                HostTensor.of(new float[] {1, Float.NaN, Float.NEGATIVE_INFINITY, 4}, 2, 2)}) {
            Path out = tmp.resolve("t.npy");
            Npy.write(out, t);
            HostTensor back = Npy.read(out);
            assertArrayEquals(t.shape(), back.shape());
            assertArrayEquals(t.data(), back.data());
        }
    }

    @Test
    void rejectsOtherDtypesNamingTheFile() throws Exception {
        Path out = tmp.resolve("f8.npy");
        Npy.write(out, HostTensor.of(new float[] {1, 2}, 2));
        byte[] b = Files.readAllBytes(out);
        String s = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1).replace("<f4", "<f8");
        Files.write(out, s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.read(out));
        assertTrue(e.getMessage().contains(out.toString()) && e.getMessage().contains("<f8"), e.getMessage());
    }
}
