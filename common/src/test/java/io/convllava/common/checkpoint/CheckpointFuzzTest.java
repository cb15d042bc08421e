package io.convllava.common.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deterministic mutation fuzzing of a small torch.save archive and a small safetensors file: byte flips, truncations
 * and rewritten length fields. Every mutant must either load completely (every tensor read both ways) or be refused
 * with a {@link CheckpointException} or {@link IllegalArgumentException}; any other exception or error is a bug.
 */
class CheckpointFuzzTest {
    private static final long SEED = 0x10_c0ffeeL;
    private static final int MUTANTS_PER_FILE = 300;
    /** Values a crafted length or offset field likes to hold. */
    private static final long[] INTERESTING = {0, 1, -1, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffffL, 0xffffffffL,
            0x80000000L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62, 1L << 31, 100_000_001L};

    @TempDir
    Path tmp;

    @Test
    @Timeout(60)
    void mutatedTorchArchivesLoadOrAreRefusedCleanly() throws Exception {
        Path valid = tmp.resolve("valid.bin");
        new TorchZipBuilder()
                .op(0x80, 2, '}', '(')
                .tensorItem("plain", "FloatStorage", 0, 12, 0, new long[] {3, 4}, new long[] {4, 1})
                .tensorItem("transposed", "FloatStorage", 0, 12, 2, new long[] {2, 3}, new long[] {1, 2})
                .tensorItem("half", "HalfStorage", 1, 2, 0, new long[] {2}, new long[] {1})
                .op('u', '.')
                .floatStorage(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
                .rawStorage(1, SafetensorsBuilder.shorts((short) 0x3c00, (short) 0xc000))
                .write(valid);
        fuzz(valid, ".bin");
    }

    @Test
    @Timeout(60)
    void mutatedSafetensorsLoadOrAreRefusedCleanly() throws Exception {
        Path valid = tmp.resolve("valid.safetensors");
        new SafetensorsBuilder()
                .addFloats("a", new long[] {2, 2}, 1, 2, 3, 4)
                .add("b", "BF16", new long[] {3}, SafetensorsBuilder.shorts((short) 0x3f80, (short) 0, (short) 1))
                .add("c", "I64", new long[] {1}, new byte[8])
                .write(valid);
        fuzz(valid, ".safetensors");
    }

    private void fuzz(Path valid, String suffix) throws Exception {
        assertLoads(valid); // the baseline itself must load
        byte[] original = Files.readAllBytes(valid);
        Random random = new Random(SEED);
        List<String> failures = new ArrayList<>();
        int loaded = 0;
        for (int i = 0; i < MUTANTS_PER_FILE; i++) {
            byte[] mutant = original.clone();
            String how = mutate(mutant, random);
            if (how.startsWith("truncate to ")) {
                mutant = Arrays.copyOf(mutant, Integer.parseInt(how.substring("truncate to ".length())));
            }
            Path file = tmp.resolve("mutant-" + i + suffix);
            Files.write(file, mutant);
            try {
                assertLoads(file);
                loaded++;
            } catch (CheckpointException | IllegalArgumentException refused) {
                // what a bad file must cause
            } catch (Throwable t) {
                failures.add("mutant " + i + " (" + how + "): " + t);
            }
            Files.delete(file);
        }
        assertTrue(failures.isEmpty(), failures.size() + " mutants escaped the checks:\n" + String.join("\n",
                failures.subList(0, Math.min(10, failures.size()))));
        // the mutations are neither all harmless nor all fatal
        assertTrue(loaded > 0 && loaded < MUTANTS_PER_FILE, loaded + " of " + MUTANTS_PER_FILE + " mutants loaded");
    }

    /** Opens the file and reads every tensor as floats and as stored bytes. */
    private static void assertLoads(Path file) {
        try (TensorSource src = Checkpoints.open(file)) {
            for (String name : src.names()) {
                TensorInfo info = src.info(name);
                src.readFloat(name, info.shape());
                src.readRaw(name);
            }
        }
    }

    /** Damages {@code b} in place (or says where to truncate it); returns what was done, to reproduce a failure. */
    private static String mutate(byte[] b, Random random) {
        switch (random.nextInt(4)) {
            case 0 -> {
                int flips = 1 + random.nextInt(4);
                StringBuilder how = new StringBuilder("flip");
                for (int f = 0; f < flips; f++) {
                    int at = random.nextInt(b.length);
                    b[at] ^= (byte) (1 << random.nextInt(8));
                    how.append(' ').append(at);
                }
                return how.toString();
            }
            case 1 -> {
                return "truncate to " + random.nextInt(b.length);
            }
            case 2 -> {
                int at = random.nextInt(b.length);
                b[at] = (byte) random.nextInt(256);
                return "byte " + at;
            }
            default -> {
                // a length, size, count or offset field rewritten with a value chosen to break arithmetic
                int width = random.nextBoolean() ? 4 : random.nextBoolean() ? 8 : 2;
                int at = random.nextInt(b.length - width + 1);
                long value = INTERESTING[random.nextInt(INTERESTING.length)];
                ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                switch (width) {
                    case 2 -> buf.putShort(at, (short) value);
                    case 4 -> buf.putInt(at, (int) value);
                    default -> buf.putLong(at, value);
                }
                return width + "-byte field at " + at + " = " + value;
            }
        }
    }
}
