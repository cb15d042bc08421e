package io.convllava.common.config;

/**
 * The CLIP image processor ({@code preprocessor_config.json}): resize so the shortest edge is {@code shortestEdge}
 * with PIL resample {@code resample}, centre crop to {@code cropHeight x cropWidth}, rescale, normalise.
 */
public record PreprocessorConfig(int shortestEdge, int cropHeight, int cropWidth, int resample, double rescaleFactor,
                                 float[] imageMean, float[] imageStd, boolean doResize, boolean doCenterCrop,
                                 boolean doRescale, boolean doNormalize, boolean doConvertRgb) {

    /** Side of the square model input: the crop when cropping, else the resized shortest edge. */
    public int outputResolution() {
        return doCenterCrop ? cropHeight : shortestEdge;
    }
}
