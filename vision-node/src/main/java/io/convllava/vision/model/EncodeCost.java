package io.convllava.vision.model;

import io.convllava.common.config.VisionConfig;

/**
 * What one encode costs, from the shapes alone: its arithmetic (to compare encode speed with the machine's
 * matrix-product peak) and its peak activation memory (to admit encodes within a limit).
 */
public final class EncodeCost {
    /** Per element: sum; subtract the mean, square, sum; subtract, divide; scale, shift. */
    static final int LAYER_NORM_FLOPS = 8;
    /** Per element of exact GELU 0.5 x (1 + erf(x / sqrt 2)), erf counted as one. */
    static final int GELU_FLOPS = 5;

    private EncodeCost() {
    }

    /**
     * FLOPs of encoding one {@code resolution} x {@code resolution} image: 2 per multiply-add of every convolution
     * and Linear (the depthwise 7x7 conv over its zero padding too), 1 per bias, layer-scale and residual add,
     * {@value #LAYER_NORM_FLOPS} per LayerNorm element and {@value #GELU_FLOPS} per GELU element.
     *
     * @param projectorWidths mm_hidden, then each projector Linear's output width (GELU between Linears)
     */
    public static long flops(VisionConfig tower, int resolution, int[] projectorWidths) {
        int[] widths = tower.hiddenSizes();
        long side = resolution / tower.patchSize();
        long patch = (long) tower.numChannels() * tower.patchSize() * tower.patchSize();
        long total = side * side * widths[0] * (2 * patch + 1 + LAYER_NORM_FLOPS);        // patchify conv, LayerNorm
        for (int s = 0; s < widths.length; s++) {
            long c = widths[s];
            if (s > 0) {
                long in = widths[s - 1];
                total += side * side * in * LAYER_NORM_FLOPS;
                side /= 2;
                total += side * side * c * (2 * 4 * in + 1);                               // 2x2 stride-2 conv
            }
            long hidden = ConvNextLayer.MLP_RATIO * c;
            long kernel = ConvNextLayer.KERNEL * ConvNextLayer.KERNEL;
            long perPosition = c * (2 * kernel + 1)                                        // depthwise conv
                    + c * LAYER_NORM_FLOPS
                    + hidden * (2 * c + 1) + hidden * GELU_FLOPS                           // pwconv1, GELU
                    + c * (2 * hidden + 1)                                                 // pwconv2
                    + 2 * c;                                                               // layer scale, residual
            total += tower.depths()[s] * side * side * perPosition;
        }
        long tokens = side * side;
        for (int i = 1; i < projectorWidths.length; i++) {
            total += tokens * projectorWidths[i] * (2L * projectorWidths[i - 1] + 1);
            if (i + 1 < projectorWidths.length) {
                total += tokens * projectorWidths[i] * GELU_FLOPS;
            }
        }
        return total;
    }

    /**
     * Estimated peak bytes of the arrays one encode of {@code batch} images holds at once, as the tower and projector
     * free them (a "map" is one [B, C, H, W] activation): the pixels throughout, plus the largest of
     * <ul>
     *   <li>the stem: the patch map, LayerNorm's channels-last copy and its output, 3 maps;</li>
     *   <li>a down-sampling: its input, LayerNorm's copy and output, 3 maps of the previous stage; then the normalised
     *       input, the output and libtorch's reordered copies of the conv weights (measured: twice their size);</li>
     *   <li>a block: x, the depthwise conv output and one map of conv scratch; then x, the conv output and one band's
     *       two 4C-wide intermediates around the GELU;</li>
     *   <li>the projector: the tokens and two [B, N, hidden].</li>
     * </ul>
     * The LayerNorm copy and the depthwise scratch are not taken when libtorch keeps a map channels-last, so on the CPU
     * the estimate runs a little high: ConvNeXt-L + 5th stage at 1536 px grows the resident set by 325 MiB, estimated
     * 351 MiB (docs/benchmarks.md).
     *
     * @param bytesPerElement 4 for float32 (CPU), 2 for float16 (GPU)
     */
    public static long peakActivationBytes(VisionConfig tower, int resolution, int[] projectorWidths, int batch,
                                           int bytesPerElement) {
        int[] widths = tower.hiddenSizes();
        long e = bytesPerElement;
        long side = resolution / tower.patchSize();
        long map = batch * side * side * widths[0] * e;
        long peak = 3 * map;
        for (int s = 0; s < widths.length; s++) {
            if (s > 0) {
                long input = map;
                side /= 2;
                map = batch * side * side * widths[s] * e;
                long weights = 4L * widths[s - 1] * widths[s] * e;
                peak = Math.max(peak, Math.max(3 * input, input + map + 2 * weights));
            }
            long rows = Math.min(side, ConvNextLayer.rowsPerBand(batch, widths[s], side, bytesPerElement));
            long band = batch * rows * side * ConvNextLayer.MLP_RATIO * widths[s] * e;
            peak = Math.max(peak, Math.max(3 * map, 2 * map + 2 * band));
        }
        long tokens = batch * side * side;
        long hidden = projectorWidths[projectorWidths.length - 1];
        peak = Math.max(peak, tokens * (widths[widths.length - 1] + 2 * hidden) * e);
        long pixels = batch * tower.numChannels() * (long) resolution * resolution * e;
        return pixels + peak;
    }
}
