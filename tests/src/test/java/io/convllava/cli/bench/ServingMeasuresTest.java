package io.convllava.cli.bench;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The serving bench's arithmetic and images, on made-up timings. */
class ServingMeasuresTest {
    private static final long MS = 1_000_000;

    @Test
    void decodeSpeedCountsTheTokensAfterTheFirstOverTheTimeFromFirstToLast() {
        StreamTiming t = timing(0, 100, 1100, 11);
        assertEquals(100, t.ttftMs(), 1e-9);
        assertEquals(10, t.decodeTokensPerSecond(), 1e-9);
        assertThrows(IllegalStateException.class, () -> timing(0, 100, 100, 1).decodeTokensPerSecond());
    }

    @Test
    void aggregateDecodeSpansTheEarliestFirstTokenToTheLatestLastOne() {
        ConcurrentStreams.Result r = new ConcurrentStreams.Result(3,
                List.of(timing(0, 100, 1100, 11), timing(0, 600, 2100, 11)), List.of("DEADLINE_EXCEEDED: late"), 0,
                2200 * MS);
        // 20 decode tokens from 100 to 2100 ms; the failed stream counts for nothing
        assertEquals(20 / 2.0, r.aggregateDecodeTokensPerSecond().orElseThrow(), 1e-9);
        assertEquals(22 / 2.2, r.throughputTokensPerSecond(), 1e-9);
        assertEquals((10 + 10 / 1.5) / 2, r.medianStreamDecodeTokensPerSecond().orElseThrow(), 1e-9);
        assertEquals(600, r.ttftMs(90).orElseThrow(), 1e-9);
    }

    @Test
    void aPhaseWhoseStreamsAllFailedHasNoStatistics() {
        ConcurrentStreams.Result r = new ConcurrentStreams.Result(1, List.of(), List.of("UNAVAILABLE: gone"), 0, MS);
        assertTrue(r.aggregateDecodeTokensPerSecond().isEmpty());
        assertTrue(r.medianStreamDecodeTokensPerSecond().isEmpty());
        assertTrue(r.ttftMs(50).isEmpty());
        assertEquals(0, r.throughputTokensPerSecond(), 1e-9);
    }

    @Test
    void aFailedCallIsDescribedByItsStatus() {
        assertEquals("DEADLINE_EXCEEDED: too slow", ConcurrentStreams.describe(
                Status.DEADLINE_EXCEEDED.withDescription("too slow").asRuntimeException()));
        assertEquals("IllegalStateException: no Final", ConcurrentStreams.describe(
                new IllegalStateException("no Final")));
    }

    @Test
    void percentilesAreNearestRank() {
        double[] v = {5, 1, 4, 2, 3, 6, 7, 8, 9, 10};
        assertEquals(5.5, Stats.median(v), 1e-9);
        assertEquals(9, Stats.percentile(v, 90), 1e-9);
        assertEquals(1, Stats.percentile(new double[] {1}, 90), 1e-9);
    }

    @Test
    void variantsAreNewBytesOfTheSamePicture() throws IOException {
        byte[] original = BenchImages.synthetic(64, 48);
        byte[] a = BenchImages.variant(original, 1);
        byte[] b = BenchImages.variant(original, 2);
        assertFalse(Arrays.equals(a, b));
        assertFalse(Arrays.equals(original, a));
        BufferedImage o = ImageIO.read(new ByteArrayInputStream(original));
        BufferedImage v = ImageIO.read(new ByteArrayInputStream(b));
        int differing = 0;
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 64; x++) {
                differing += o.getRGB(x, y) == v.getRGB(x, y) ? 0 : 1;
            }
        }
        assertEquals(2, differing, "only the two corner pixels");
    }

    @Test
    void residentMemoryIsReadFromProcStatus() throws IOException {
        List<String> status = List.of("Name:\tjava", "VmHWM:\t  204800 kB", "VmRSS:\t  102400 kB");
        assertEquals(102400, ResidentMemory.kib(status, "VmRSS:", 1));
        assertThrows(IOException.class, () -> ResidentMemory.kib(status, "VmSwap:", 1));
        ResidentMemory self = ResidentMemory.of(ProcessHandle.current().pid());
        assertFalse(self.rssBytes() <= 0 || self.hwmBytes() < self.rssBytes(), self.toString());
    }

    private static StreamTiming timing(long startMs, long firstMs, long lastMs, int tokens) {
        return new StreamTiming(startMs * MS, firstMs * MS, lastMs * MS, tokens, 1, 10, 1, 1, 1, "", "length");
    }
}
