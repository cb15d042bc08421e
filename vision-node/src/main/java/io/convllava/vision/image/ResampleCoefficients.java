package io.convllava.vision.image;

/**
 * Pillow's bicubic resampling weights along one axis ({@code precompute_coeffs} followed by
 * {@code normalize_coeffs_8bpc} in {@code libImaging/Resample.c}): output pixel {@code i} reads the
 * {@code count[i]} input pixels starting at {@code first[i]}, with fixed-point weights
 * {@code weights[i * kernelSize + j]} carrying {@link #PRECISION_BITS} fractional bits.
 */
final class ResampleCoefficients {
    /** 32 bits minus 8 for the pixel value minus 2 for negative lobes and sums above 1. */
    static final int PRECISION_BITS = 32 - 8 - 2;
    /** Initial accumulator value: one half in fixed point, so that {@link #clip8} rounds to nearest. */
    static final int HALF = 1 << (PRECISION_BITS - 1);

    private static final double BICUBIC_SUPPORT = 2.0;
    private static final double BICUBIC_A = -0.5;

    final int kernelSize;
    final int[] first;
    final int[] count;
    final int[] weights;

    private ResampleCoefficients(int kernelSize, int[] first, int[] count, int[] weights) {
        this.kernelSize = kernelSize;
        this.first = first;
        this.count = count;
        this.weights = weights;
    }

    /** Weights to resample {@code inSize} pixels (box 0..inSize) to {@code outSize} pixels. */
    static ResampleCoefficients bicubic(int inSize, int outSize) {
        // Pillow takes the box edges as C floats, so the span is (float) inSize
        double scale = (double) (float) inSize / outSize;
        double filterScale = Math.max(scale, 1.0); // antialias: widen the kernel when shrinking
        double support = BICUBIC_SUPPORT * filterScale;
        int kernelSize = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        int[] weights = new int[Math.multiplyExact(outSize, kernelSize)];
        double[] k = new double[kernelSize];
        double invFilterScale = 1.0 / filterScale;
        for (int i = 0; i < outSize; i++) {
            double center = (i + 0.5) * scale;
            int min = Math.max((int) (center - support + 0.5), 0); // (int) truncates toward zero as in C
            int max = Math.min((int) (center + support + 0.5), inSize);
            int n = max - min;
            double sum = 0.0;
            for (int j = 0; j < n; j++) {
                double w = bicubic((j + min - center + 0.5) * invFilterScale);
                k[j] = w;
                sum += w;
            }
            for (int j = 0; j < n; j++) {
                double normalised = sum != 0.0 ? k[j] / sum : k[j];
                weights[i * kernelSize + j] = toFixedPoint(normalised);
            }
            first[i] = min;
            count[i] = n;
        }
        return new ResampleCoefficients(kernelSize, first, count, weights);
    }

    /** Rounds half away from zero, as {@code (int)(x +- 0.5)} does in C. */
    private static int toFixedPoint(double weight) {
        double scaled = weight * (1 << PRECISION_BITS);
        return (int) (weight < 0 ? scaled - 0.5 : scaled + 0.5);
    }

    /** Keys' cubic convolution kernel with a = -0.5, support 2. */
    private static double bicubic(double x) {
        if (x < 0.0) {
            x = -x;
        }
        if (x < 1.0) {
            return ((BICUBIC_A + 2.0) * x - (BICUBIC_A + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * BICUBIC_A;
        }
        return 0.0;
    }

    /** Fixed-point accumulator to an 8-bit sample: drop the fraction (the sum started at one half), clamp. */
    static int clip8(int accumulator) {
        int v = accumulator >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }
}
