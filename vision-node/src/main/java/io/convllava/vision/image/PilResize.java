package io.convllava.vision.image;

/**
 * Pillow's {@code Image.resize(size, Image.BICUBIC)} for 8-bit RGB, bit for bit: separable (horizontal pass, then
 * vertical), Keys bicubic with a = -0.5 widened by the downscale factor, 22-bit fixed-point weights, rounding and
 * clamping to 8 bits after each pass, no {@code reducing_gap}. As in Pillow, a pass whose dimension is unchanged is
 * skipped, the horizontal pass only computes the rows the vertical pass reads, and an unchanged size is a copy.
 */
public final class PilResize {
    private PilResize() {
    }

    /** {@code image} resized to {@code width x height}. */
    public static RgbImage bicubic(RgbImage image, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
        boolean horizontal = width != image.width();
        boolean vertical = height != image.height();
        if (!horizontal && !vertical) {
            return new RgbImage(width, height, image.rgb().clone());
        }
        ResampleCoefficients rows = ResampleCoefficients.bicubic(image.height(), height);
        RgbImage current = image;
        int rowOffset = 0;
        if (horizontal) {
            // only the input rows some output row reads: [first row of output 0, end of the last output's window)
            int firstRow = rows.first[0];
            int endRow = rows.first[height - 1] + rows.count[height - 1];
            current = resampleRows(image, width, firstRow, endRow,
                    ResampleCoefficients.bicubic(image.width(), width));
            rowOffset = firstRow;
        }
        if (vertical) {
            current = resampleColumns(current, height, rowOffset, rows);
        }
        return current;
    }

    /** Horizontal pass over input rows {@code [firstRow, endRow)}: [endRow - firstRow, outWidth, 3]. */
    private static RgbImage resampleRows(RgbImage in, int outWidth, int firstRow, int endRow, ResampleCoefficients c) {
        int inWidth = in.width();
        byte[] src = in.rgb();
        byte[] dst = new byte[(endRow - firstRow) * outWidth * 3];
        for (int y = firstRow; y < endRow; y++) {
            int rowBase = y * inWidth * 3;
            int o = (y - firstRow) * outWidth * 3;
            for (int x = 0; x < outWidth; x++, o += 3) {
                int k = x * c.kernelSize;
                int p = rowBase + c.first[x] * 3;
                int r = ResampleCoefficients.HALF;
                int g = ResampleCoefficients.HALF;
                int b = ResampleCoefficients.HALF;
                for (int j = 0; j < c.count[x]; j++, p += 3) {
                    int w = c.weights[k + j];
                    r += (src[p] & 0xFF) * w;
                    g += (src[p + 1] & 0xFF) * w;
                    b += (src[p + 2] & 0xFF) * w;
                }
                dst[o] = (byte) ResampleCoefficients.clip8(r);
                dst[o + 1] = (byte) ResampleCoefficients.clip8(g);
                dst[o + 2] = (byte) ResampleCoefficients.clip8(b);
            }
        }
        return new RgbImage(outWidth, endRow - firstRow, dst);
    }

    /** Vertical pass; input row {@code i} of the weights is row {@code i - rowOffset} of {@code in}. */
    private static RgbImage resampleColumns(RgbImage in, int outHeight, int rowOffset, ResampleCoefficients c) {
        int stride = in.width() * 3;
        byte[] src = in.rgb();
        byte[] dst = new byte[outHeight * stride];
        for (int y = 0; y < outHeight; y++) {
            int k = y * c.kernelSize;
            int top = (c.first[y] - rowOffset) * stride;
            int o = y * stride;
            for (int i = 0; i < stride; i++) {
                int acc = ResampleCoefficients.HALF;
                int p = top + i;
                for (int j = 0; j < c.count[y]; j++, p += stride) {
                    acc += (src[p] & 0xFF) * c.weights[k + j];
                }
                dst[o + i] = (byte) ResampleCoefficients.clip8(acc);
            }
        }
        return new RgbImage(in.width(), outHeight, dst);
    }
}
