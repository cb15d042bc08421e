package io.convllava.vision.image;

import io.convllava.common.config.PreprocessorConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;

import java.util.List;

/**
 * LLaVA's {@code process_images}: with {@code image_aspect_ratio = "pad"} (every ConvLLaVA release)
 * {@code expand2square} onto the mean colour first, then Hugging Face's {@code CLIPImageProcessor}: resize the
 * shortest edge (Pillow bicubic), centre crop, rescale, normalise, channels first. Thread-safe.
 */
public final class ImagePreprocessor {
    /** PIL's resample code for BICUBIC, the only filter implemented. */
    private static final int PIL_BICUBIC = 3;

    private final PreprocessorConfig config;
    private final boolean padToSquare;
    private final int resolution;
    private final int[] padColour;
    /** [3][256]: the float32 model input for each channel value, rescaled and normalised. */
    private final float[][] channelValues;

    /** The preprocessing a model's configs ask for: the tower's preprocessor and the LLM's image_aspect_ratio. */
    public static ImagePreprocessor forModel(ModelFiles files) {
        String aspect = files.llmConfig().imageAspectRatio();
        if (aspect != null && aspect.startsWith("anyres")) {
            throw new IllegalArgumentException("config.json in " + files.llmDir() + ": image_aspect_ratio '" + aspect
                    + "' is not supported; ConvLLaVA uses 'pad'");
        }
        return new ImagePreprocessor(files.preprocessorConfig(), "pad".equals(aspect));
    }

    /** LLaVA's "pad" aspect handling (what ConvLLaVA uses). */
    public ImagePreprocessor(PreprocessorConfig config) {
        this(config, true);
    }

    /** @param padToSquare LLaVA's {@code image_aspect_ratio == "pad"}; otherwise the processor alone (crop) */
    public ImagePreprocessor(PreprocessorConfig config, boolean padToSquare) {
        this.config = config;
        this.padToSquare = padToSquare;
        if (config.doResize() && config.resample() != PIL_BICUBIC) {
            throw new IllegalArgumentException("preprocessor config: resample " + config.resample()
                    + " is not supported, only 3 (PIL BICUBIC)");
        }
        if (config.doCenterCrop() && config.cropHeight() != config.cropWidth()) {
            throw new IllegalArgumentException("preprocessor config: crop_size must be square, got height "
                    + config.cropHeight() + " width " + config.cropWidth());
        }
        if (!config.doResize() && !config.doCenterCrop()) {
            throw new IllegalArgumentException("preprocessor config: with do_resize and do_center_crop both false the "
                    + "model input size would depend on the image; enable one of them");
        }
        checkPerChannel("image_mean", config.imageMean());
        checkPerChannel("image_std", config.imageStd());
        this.resolution = config.outputResolution();
        if (resolution <= 0) {
            throw new IllegalArgumentException("preprocessor config: the output size must be positive, got " + resolution
                    + (config.doCenterCrop() ? " (crop_size)" : " (size.shortest_edge)"));
        }
        this.padColour = new int[3];
        this.channelValues = new float[3][256];
        for (int c = 0; c < 3; c++) {
            padColour[c] = (int) ((double) config.imageMean()[c] * 255); // LLaVA: int(x * 255), truncated
            for (int v = 0; v < 256; v++) {
                channelValues[c][v] = modelInput(v, c);
            }
        }
    }

    /** Whether images are padded to a square of their longer side first (LLaVA's "pad"). */
    public boolean padsToSquare() {
        return padToSquare;
    }

    /** Side of the square model input, R. */
    public int resolution() {
        return resolution;
    }

    /** The image as model input: float32 [3, R, R]. */
    public HostTensor preprocess(RgbImage image) {
        float[] out = new float[3 * resolution * resolution];
        writeChannelsFirst(toModelGeometry(image), out, 0);
        return HostTensor.of(out, 3, resolution, resolution);
    }

    /** Several images as one batch: float32 [B, 3, R, R]. */
    public HostTensor preprocessBatch(List<RgbImage> images) {
        int plane = 3 * resolution * resolution;
        float[] out = new float[Math.multiplyExact(images.size(), plane)];
        for (int i = 0; i < images.size(); i++) {
            writeChannelsFirst(toModelGeometry(images.get(i)), out, i * plane);
        }
        return HostTensor.of(out, images.size(), 3, resolution, resolution);
    }

    /**
     * LLaVA's {@code expand2square}: a square image is returned as is; otherwise it is pasted at
     * {@code ((s - w) / 2, (s - h) / 2)} onto an {@code s x s} canvas of the mean colour, {@code s = max(w, h)}.
     */
    public RgbImage padToSquare(RgbImage image) {
        int w = image.width();
        int h = image.height();
        if (w == h) {
            return image;
        }
        int side = Math.max(w, h);
        RgbImage square = RgbImage.filled(side, side, padColour[0], padColour[1], padColour[2]);
        int left = (side - w) / 2;
        int top = (side - h) / 2;
        for (int y = 0; y < h; y++) {
            System.arraycopy(image.rgb(), y * w * 3, square.rgb(), ((top + y) * side + left) * 3, w * 3);
        }
        return square;
    }

    /** Pad (unless configured otherwise), resize and crop: an R x R 8-bit image. */
    private RgbImage toModelGeometry(RgbImage image) {
        RgbImage current = padToSquare ? padToSquare(image) : image;
        if (config.doResize()) {
            int[] size = ClipImageTransforms.shortestEdgeSize(current.height(), current.width(), config.shortestEdge());
            current = PilResize.bicubic(current, size[1], size[0]);
        }
        if (config.doCenterCrop()) {
            current = ClipImageTransforms.centerCrop(current, config.cropHeight(), config.cropWidth());
        }
        return current;
    }

    private void writeChannelsFirst(RgbImage image, float[] out, int offset) {
        byte[] rgb = image.rgb();
        int pixels = resolution * resolution;
        for (int c = 0; c < 3; c++) {
            float[] lookup = channelValues[c];
            int o = offset + c * pixels;
            for (int p = 0; p < pixels; p++) {
                out[o + p] = lookup[rgb[p * 3 + c] & 0xFF];
            }
        }
    }

    /** HF: rescale in float64 then cast to float32 ({@code v * 1/255}, equal to float32 {@code v / 255}), then
     *  {@code (x - mean) / std} in float32. */
    private float modelInput(int v, int channel) {
        float x = config.doRescale() ? (float) (v * config.rescaleFactor()) : v;
        if (config.doNormalize()) {
            x = (x - config.imageMean()[channel]) / config.imageStd()[channel];
        }
        return x;
    }

    private static void checkPerChannel(String key, float[] values) {
        if (values == null || values.length != 3) {
            throw new IllegalArgumentException("preprocessor config: " + key + " must have 3 values (R, G, B), got "
                    + (values == null ? "none" : values.length));
        }
    }
}
