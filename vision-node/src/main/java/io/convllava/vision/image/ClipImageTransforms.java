package io.convllava.vision.image;

/** The geometry steps of Hugging Face's {@code CLIPImageProcessor} ({@code image_transforms.py}), on 8-bit RGB. */
final class ClipImageTransforms {
    private ClipImageTransforms() {
    }

    /**
     * {@code get_resize_output_image_size(image, shortest_edge, default_to_square=False)}: the short side becomes
     * {@code shortestEdge}, the long side {@code int(shortestEdge * long / short)}. Returns {@code {height, width}}.
     */
    static int[] shortestEdgeSize(int height, int width, int shortestEdge) {
        int shortSide = Math.min(height, width);
        int longSide = Math.max(height, width);
        int newLong = (int) ((double) ((long) shortestEdge * longSide) / shortSide);
        return width <= height ? new int[] {newLong, shortestEdge} : new int[] {shortestEdge, newLong};
    }

    /**
     * {@code center_crop}: the window starts at {@code ((h - cropH) // 2, (w - cropW) // 2)}; where the crop is larger
     * than the image, the image is first centred (offset rounded up) on a zero (black) canvas, as HF does.
     */
    static RgbImage centerCrop(RgbImage image, int cropHeight, int cropWidth) {
        int h = image.height();
        int w = image.width();
        if (h == cropHeight && w == cropWidth) {
            return image;
        }
        // HF pads a too-small side to the crop size (zeros, image offset rounded up), then cuts the window out of
        // the canvas; crop pixel (x, y) thus shows image pixel (x + offsetX, y + offsetY), black outside the image
        int offsetY = cropOffset(h, cropHeight);
        int offsetX = cropOffset(w, cropWidth);
        byte[] src = image.rgb();
        byte[] dst = new byte[cropHeight * cropWidth * 3];
        for (int y = 0; y < cropHeight; y++) {
            int sy = y + offsetY;
            if (sy < 0 || sy >= h) {
                continue;
            }
            for (int x = 0; x < cropWidth; x++) {
                int sx = x + offsetX;
                if (sx >= 0 && sx < w) {
                    System.arraycopy(src, (sy * w + sx) * 3, dst, (y * cropWidth + x) * 3, 3);
                }
            }
        }
        return new RgbImage(cropWidth, cropHeight, dst);
    }

    private static int cropOffset(int size, int crop) {
        int start = Math.floorDiv(size - crop, 2);
        int pad = (Math.max(crop, size) - size + 1) / 2; // ceil(missing / 2)
        return Math.max(0, start + pad) - pad;
    }
}
