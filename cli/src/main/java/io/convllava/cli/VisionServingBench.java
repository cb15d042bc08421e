package io.convllava.cli;

import io.convllava.common.client.EncodedBatch;
import io.convllava.common.client.RemoteImageEncoder;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.model.VisionEncoder;
import io.convllava.vision.server.VisionNodeServer;
import io.convllava.vision.server.VisionServingOptions;
import io.grpc.ManagedChannel;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * {@code convllava bench --vision-serving}: a vision node on loopback, timed from its client, all in one run on one
 * loaded encoder. First an image encoded cold (decoded, preprocessed, through the tower) against the same image
 * again (answered from the embedding cache); then {@value #IMAGES} distinct {@value #SIDE} px images sent one after
 * another against the same images sent at once, on a node without the cache: at once with the default batch size,
 * and at once encoded one per tower call.
 */
final class VisionServingBench {
    static final int IMAGES = 8;
    static final int SIDE = 768;
    private static final int CACHED_RUNS = 5;
    /** Long enough for {@value #IMAGES} queued encodes of a large tower on a slow CPU. */
    private static final TransportOptions TRANSPORT = TransportOptions.DEFAULTS.withCallDeadline(Duration.ofHours(1));

    private VisionServingBench() {
    }

    static void run(ModelFiles files, String device, PrintStream out) throws IOException {
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < IMAGES + 2; i++) {
            images.add(syntheticImage(i));
        }
        byte[] warmUp = images.get(0);
        byte[] single = images.get(1);
        List<byte[]> distinct = images.subList(2, images.size());
        System.gc();
        try (VisionEncoder encoder = VisionEncoder.load(files, device)) {
            ImagePreprocessor preprocessor = ImagePreprocessor.forModel(files);
            VisionServingOptions serving = VisionServingOptions.DEFAULTS;
            out.printf("vision serving: a node on loopback, model revision %s, %d px model input, %s, batches of up to"
                    + " %d; %d distinct synthetic %d px PNGs%n", encoder.revision(),
                    encoder.resolution(), device, serving.maxBatch(), images.size(), SIDE);
            try (Node node = new Node(preprocessor, encoder, serving)) {
                node.client.encode("warm-up", List.of(warmUp), false);
                long t0 = System.nanoTime();
                EncodedBatch cold = node.client.encode("cold", List.of(single), false);
                double coldMs = ms(System.nanoTime() - t0);
                double[] cachedMs = new double[CACHED_RUNS];
                for (int i = 0; i < CACHED_RUNS; i++) {
                    t0 = System.nanoTime();
                    EncodedBatch hit = node.client.encode("cached", List.of(single), false);
                    cachedMs[i] = ms(System.nanoTime() - t0);
                    if (!hit.cached().equals(List.of(true)) || !Arrays.equals(hit.embeddings().get(0).data(),
                            cold.embeddings().get(0).data())) {
                        throw new IllegalStateException("the repeated image was not answered from the cache");
                    }
                }
                double cached = median(cachedMs);
                out.printf("vision encode over loopback, one image: cold %.1f ms (decode, preprocess, tower,"
                        + " projector); cached %.2f ms (median of %d, best %.2f) = %.3f%% of cold; node cache %s%n",
                        coldMs, cached, CACHED_RUNS, Arrays.stream(cachedMs).min().orElseThrow(),
                        100 * cached / coldMs, node.server.cacheStats());
            }
            VisionServingOptions uncached = serving.withEmbeddingCacheBytes(0);
            double sequential;
            double concurrent;
            long calls;
            double oneByOne;
            try (Node node = new Node(preprocessor, encoder, uncached)) {
                sequential = sequential(node.client, distinct);
                long before = node.server.service().encodeBatches();
                concurrent = concurrent(node.client, distinct);
                calls = node.server.service().encodeBatches() - before;
            }
            try (Node node = new Node(preprocessor, encoder, uncached.withMaxBatch(1))) {
                oneByOne = concurrent(node.client, distinct);
            }
            out.printf("vision encode, %d distinct %d px images, no cache: one after another %.1f s (%.2f s per image);"
                    + " all at once %.1f s = %.2fx of one after another (%d tower call(s)); all at once with"
                    + " --max-batch 1 %.1f s = %.2fx%n", IMAGES, SIDE, sequential, sequential / IMAGES, concurrent,
                    concurrent / sequential, calls, oneByOne, oneByOne / sequential);
        }
    }

    /** Seconds to encode the images one request after another. */
    private static double sequential(RemoteImageEncoder client, List<byte[]> images) {
        long t0 = System.nanoTime();
        for (int i = 0; i < images.size(); i++) {
            client.encode("sequential-" + i, List.of(images.get(i)), false);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Seconds from sending every image as a request of its own, all at once, to the last answer. */
    private static double concurrent(RemoteImageEncoder client, List<byte[]> images) {
        long t0 = System.nanoTime();
        List<CompletableFuture<EncodedBatch>> calls = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            calls.add(client.encodeAsync("concurrent-" + i, List.of(images.get(i)), List.of(), false));
        }
        calls.forEach(CompletableFuture::join);
        return (System.nanoTime() - t0) / 1e9;
    }

    /** A {@value #SIDE} px square PNG of a few seeded shapes on a seeded background, distinct per seed. */
    static byte[] syntheticImage(int seed) {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(random.nextInt(0x1000000)));
        g.fillRect(0, 0, SIDE, SIDE);
        for (int s = 0; s < 3 + random.nextInt(4); s++) {
            g.setColor(new Color(random.nextInt(0x1000000)));
            int w = 60 + random.nextInt(SIDE / 3);
            int h = 60 + random.nextInt(SIDE / 3);
            int x = random.nextInt(SIDE - w);
            int y = random.nextInt(SIDE - h);
            if (random.nextBoolean()) {
                g.fillOval(x, y, w, h);
            } else {
                g.fillRect(x, y, w, h);
            }
        }
        g.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return png.toByteArray();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /** A vision node on 127.0.0.1 serving the shared encoder, and a client. */
    private static final class Node implements AutoCloseable {
        final VisionNodeServer server;
        final ManagedChannel channel;
        final RemoteImageEncoder client;

        Node(ImagePreprocessor preprocessor, VisionEncoder encoder, VisionServingOptions options) throws IOException {
            server = VisionNodeServer.start("127.0.0.1", 0, preprocessor, encoder, TRANSPORT, options);
            channel = Channels.forAddress(server.address(), TRANSPORT);
            client = new RemoteImageEncoder(channel, TRANSPORT);
        }

        @Override
        public void close() {
            channel.shutdownNow();
            server.close();
        }
    }
}
