package io.convllava.cli.download;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransferProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void rateAndTimeLeftCountOnlyTheBytesThisRunMoved() {
        AtomicLong now = new AtomicLong(0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TransferProgress p = new TransferProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false,
                now::get);
        p.beginRepo("Org/Name", 1, 100_000_000);
        p.beginFile("model.bin", 100_000_000, 20_000_000); // 20 MB from an earlier run
        now.addAndGet(10 * SECOND);
        p.advance(25_000_000); // 25 MB in 10 s: 2.5 MB/s; 55 MB left: 22 s
        assertEquals("45% 45.0 MB / 100.0 MB, 2.5 MB/s, 0:22 left", p.status());
        String log = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("Org/Name: 1 file to fetch, 100.0 MB"), log);
        assertTrue(log.contains("  [1/1] model.bin: 100.0 MB, resuming at 20.0 MB"), log);
        assertTrue(log.contains("  [1/1] model.bin: 45% 45.0 MB / 100.0 MB, 2.5 MB/s, 0:22 left"), log);
    }

    @Test
    void onATerminalTheLineIsRedrawnInPlace() {
        AtomicLong now = new AtomicLong(0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TransferProgress p = new TransferProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), true,
                now::get);
        p.beginRepo("Org/Name", 1, 2000);
        p.beginFile("a.json", 2000, 0);
        now.addAndGet(SECOND);
        p.advance(1000);
        p.endFile();
        p.endRepo(true);
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("\rOrg/Name [##########----------] 50% 1.0 kB / 2.0 kB"), out);
        assertTrue(out.endsWith("Org/Name: 1.0 kB fetched in 1.0 s (1.0 kB/s)" + System.lineSeparator()), out);
    }

    @Test
    void sizesAndDurationsReadLikeTheHubs() {
        assertEquals("999 B", TransferProgress.bytes(999));
        assertEquals("14.9 GB", TransferProgress.bytes(14_880_000_000L));
        assertEquals("0:05", TransferProgress.duration(5));
        assertEquals("1:02:03", TransferProgress.duration(3723));
    }
}
