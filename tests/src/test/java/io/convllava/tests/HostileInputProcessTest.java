package io.convllava.tests;

import com.google.protobuf.ByteString;
import io.convllava.cli.LocalCluster;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import io.convllava.proto.v1.SamplingOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile requests through the public API of a running local cluster (every node its own process, 512 MB heaps):
 * each is refused (INVALID_ARGUMENT, RESOURCE_EXHAUSTED for a message over the transport's limit) with a message
 * naming the limit, quickly, no node's resident memory grows by more than 256 MB, and the cluster answers the next
 * request exactly as before.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputProcessTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final long MEMORY_GROWTH_LIMIT = 256L << 20;

    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private LocalCluster cluster;
    private ManagedChannel channel;
    private int[] reference;

    @BeforeAll
    void start() throws Exception {
        Path logs = Files.createTempDirectory("hostile-input");
        cluster = new LocalCluster(new LocalCluster.Spec(Fixtures.tinyModel().toString(), null, null, "cpu", 1,
                List.of("0-2", "2-4"), 0, logs, "-Xmx512m"), new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        channel = Channels.forAddress(cluster.start(Duration.ofMinutes(3)), TransportOptions.DEFAULTS);
        reference = Streams.collect(stub().generate(normal())).tokens();
    }

    @AfterAll
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aLongThinPngIsRefusedByTheSquareItWouldBePaddedTo() throws IOException {
        // one colour, 26000x2581: a few hundred KB that padded to a square once took 2 GB
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(26000, 2581, BufferedImage.TYPE_BYTE_BINARY), "png", png);
        assertRefused(withImage(png.toByteArray()), "padded to a square for the model it would be 26000x26000");
    }

    @Test
    void aPngWhoseHeaderClaims60000x60000IsRefusedUndecoded() {
        assertRefused(withImage(pngHeader(60000, 60000)), "60000x60000 = 3600000000 pixels, above the limit");
    }

    @Test
    void emptyAndGarbageImageBytesAreRefused() {
        assertRefused(withImage(new byte[0]), "image");
        assertRefused(withImage("GIF87a? not really an image at all".getBytes(StandardCharsets.US_ASCII)), "image");
    }

    @Test
    void aTenMegabytePromptIsRefusedBeforeItIsTokenized() {
        GenerateRequest huge = Streams.request("x ".repeat(5 << 20), null, 8, false);
        long started = System.nanoTime();
        assertRefused(huge, "characters of text, more than the model's");
        double seconds = (System.nanoTime() - started) / 1e9;
        assertTrue(seconds < 5, "refused in " + seconds + " s");
    }

    @Test
    void moreImagesThanARequestMayCarryAreRefused() throws IOException {
        byte[] png = Files.readAllBytes(TINY.image());
        Message.Builder user = Message.newBuilder().setRole(Message.Role.USER).setText("What is in the pictures?");
        for (int i = 0; i < 17; i++) {
            user.addImages(Image.newBuilder().setData(ByteString.copyFrom(png)));
        }
        assertRefused(GenerateRequest.newBuilder().addMessages(user).setMaxNewTokens(4).build(),
                "the request has 17 images, at most 16");
    }

    @Test
    void aMessageOverTheTransportLimitIsResourceExhausted() {
        // five 30 MB images: each within the per-image limit, together over the 128 MiB message limit
        Message.Builder user = Message.newBuilder().setRole(Message.Role.USER).setText("What is in the pictures?");
        for (int i = 0; i < 5; i++) {
            user.addImages(Image.newBuilder().setData(ByteString.copyFrom(new byte[30 << 20])));
        }
        assertRefused(GenerateRequest.newBuilder().addMessages(user).setMaxNewTokens(4).build(),
                Status.Code.RESOURCE_EXHAUSTED, "");
    }

    @Test
    void nonFiniteSamplingValuesAreRefused() {
        assertRefused(normal().toBuilder().setSampling(SamplingOptions.newBuilder().setTemperature(Float.NaN)).build(),
                "temperature must be a finite number");
        assertRefused(normal().toBuilder().setSampling(SamplingOptions.newBuilder().setTopP(-3f)).build(), "top_p");
    }

    private void assertRefused(GenerateRequest request, String expected) {
        assertRefused(request, Status.Code.INVALID_ARGUMENT, expected);
    }

    /** Refused with {@code code} naming {@code expected}; no node grew by 256 MB; the next request is answered alike. */
    private void assertRefused(GenerateRequest request, Status.Code code, String expected) {
        long before = largestResident();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> Streams.collect(stub().generate(request)));
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains(expected), e.getStatus().getDescription());
        long grown = largestResident() - before;
        assertTrue(grown < MEMORY_GROWTH_LIMIT, "a node grew by " + (grown >> 20) + " MB\n" + logBytes);
        assertEquals(List.of(), cluster.pids().values().stream().filter(p -> ProcessHandle.of(p).isEmpty()).toList(),
                "every node still runs");
        assertEquals(java.util.Arrays.toString(reference),
                java.util.Arrays.toString(Streams.collect(stub().generate(normal())).tokens()),
                "the next request is answered as before");
    }

    private GenerateRequest normal() {
        return Streams.request(TINY.question(1), null, 12, false);
    }

    private static GenerateRequest withImage(byte[] bytes) {
        return GenerateRequest.newBuilder().addMessages(Message.newBuilder().setRole(Message.Role.USER)
                .setText("What is in the picture?").addImages(Image.newBuilder().setData(ByteString.copyFrom(bytes))))
                .setMaxNewTokens(8).build();
    }

    private ConvLlavaGrpc.ConvLlavaBlockingStub stub() {
        return ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** The largest resident set of the cluster's node processes, in bytes (from /proc). */
    private long largestResident() {
        long largest = 0;
        for (long pid : cluster.pids().values()) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                    if (line.startsWith("VmRSS:")) {
                        largest = Math.max(largest, Long.parseLong(line.replaceAll("\\D", "")) << 10);
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // not on Linux, or the process is gone (checked separately)
            }
        }
        return largest;
    }

    /** A PNG signature and IHDR chunk (8-bit grey) claiming {@code width x height}, then IEND: no pixel data. */
    private static byte[] pngHeader(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0).array());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
