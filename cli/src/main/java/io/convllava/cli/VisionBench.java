package io.convllava.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;
import io.convllava.vision.model.VisionEncoder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * The vision part of {@code convllava bench}: this machine's matrix-product peak, then encodes of random pixels timed
 * against it (FLOP/s from {@link VisionEncoder#flopsPerImage()}), and optionally 1536 px encodes with the growth of
 * this process's resident set (its high-water mark, reset through {@code /proc/self/clear_refs} before each encode)
 * beside {@link VisionEncoder#activationBytes}.
 */
final class VisionBench {
    private static final int MATMUL_SIZE = 2048;
    private static final int HIGH_RESOLUTION = 1536;

    private VisionBench() {
    }

    static void run(ModelFiles files, String device, boolean highResolution, PrintStream out) throws IOException {
        DataType type = device.equals("cpu") ? DataType.FLOAT32 : DataType.FLOAT16;
        double peakBefore = matMulPeak(device, type);
        int resolution = files.preprocessorConfig().cropHeight();
        double peak;
        System.gc(); // earlier loads leave their widened weights in direct buffers, freed only by a collection
        try (VisionEncoder encoder = VisionEncoder.load(files, device)) {
            HostTensor pixels = randomPixels(resolution);
            encoder.encode(pixels); // warm-up
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 2; i++) {
                best = Math.min(best, time(() -> encoder.encode(pixels)));
            }
            double peakAfter = matMulPeak(device, type); // a peak from around the encodes, on a shared machine
            peak = Math.max(peakBefore, peakAfter);
            out.printf("matrix-product peak: %dx%d by %dx%d %s, best of 5 before and 5 after the encodes: %.1f GFLOP/s"
                    + " (%.1f before, %.1f after)%n", MATMUL_SIZE, MATMUL_SIZE, MATMUL_SIZE, MATMUL_SIZE, type,
                    peak / 1e9, peakBefore / 1e9, peakAfter / 1e9);
            double rate = encoder.flopsPerImage() / best;
            out.printf("vision encode %d px (tower + projector, best of 2): %.2f s for %.1f GFLOP = %.1f GFLOP/s,"
                    + " %.0f%% of the matrix-product peak%n", resolution, best, encoder.flopsPerImage() / 1e9,
                    rate / 1e9, 100 * rate / peak);
        }
        if (!highResolution) {
            return;
        }
        System.gc();
        try (VisionEncoder encoder = VisionEncoder.load(files, device, HIGH_RESOLUTION,
                VisionEncoder.defaultEncodeMemoryLimit(), line -> { })) {
            HostTensor pixels = randomPixels(HIGH_RESOLUTION);
            double first = time(() -> encoder.encode(pixels)); // also lets the collection above finish freeing
            clearPeakRss();
            long before = statusBytes("VmRSS:");
            double second = time(() -> encoder.encode(pixels));
            long growth = statusBytes("VmHWM:") - before;
            double rate = encoder.flopsPerImage() / Math.min(first, second);
            out.printf("vision encode %d px: %.2f s, then %.2f s for %.1f GFLOP = %.1f GFLOP/s at best, %.0f%% of the"
                    + " matrix-product peak%n", HIGH_RESOLUTION, first, second, encoder.flopsPerImage() / 1e9,
                    rate / 1e9, 100 * rate / peak);
            out.printf("vision encode %d px, second run: peak resident-set growth %.0f MiB over %.2f GiB; estimate"
                    + " %.0f MiB; encode memory limit %.0f MiB%n", HIGH_RESOLUTION, growth / 1048576.0,
                    before / (double) (1L << 30), encoder.activationBytes(1) / 1048576.0,
                    encoder.maxEncodeMemoryBytes() / 1048576.0);
        }
    }

    /** FLOP/s of one n x n by n x n product (2 n^3 FLOPs) on the device's threads, best of 5 after a warm-up. */
    private static double matMulPeak(String device, DataType type) {
        try (NDManager manager = NDManager.newBaseManager(device.equals("cpu") ? Device.cpu() : Device.gpu(),
                "PyTorch")) {
            Shape square = new Shape(MATMUL_SIZE, MATMUL_SIZE);
            NDArray a = manager.randomUniform(-1, 1, square).toType(type, false);
            NDArray b = manager.randomUniform(-1, 1, square).toType(type, false);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 6; i++) {
                long t0 = System.nanoTime();
                try (NDArray c = a.matMul(b); NDArray corner = c.get(0, 0)) {
                    corner.toType(DataType.FLOAT32, false).getFloat(); // waits for the device
                }
                if (i > 0) {
                    best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                }
            }
            return 2.0 * MATMUL_SIZE * MATMUL_SIZE * MATMUL_SIZE / best;
        }
    }

    private static HostTensor randomPixels(int resolution) {
        float[] data = new float[3 * resolution * resolution];
        Random random = new Random(1);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextGaussian();
        }
        return new HostTensor(new long[] {1, 3, resolution, resolution}, data);
    }

    private static double time(Runnable task) {
        long t0 = System.nanoTime();
        task.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Resets VmHWM to the current resident set (Linux 4.0+). */
    private static void clearPeakRss() throws IOException {
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    }

    private static long statusBytes(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).replace("kB", "").trim()) * 1024;
            }
        }
        throw new IOException("no " + field + " in /proc/self/status");
    }
}
