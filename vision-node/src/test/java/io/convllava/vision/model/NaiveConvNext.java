package io.convllava.vision.model;

import io.convllava.common.config.VisionConfig;

/**
 * A loop-by-loop ConvNeXt in double precision, written straight from the HF module definitions, as an independent
 * oracle for {@link ConvNextTower} on inputs the fixtures do not cover (non-square, several stages, batches).
 * Maps are single images stored [C][H][W] row-major.
 */
final class NaiveConvNext {
    private static final double EPS = 1e-6;

    private final VisionConfig config;
    private final InMemoryTensorSource weights;

    NaiveConvNext(VisionConfig config, InMemoryTensorSource weights) {
        this.config = config;
        this.weights = weights;
    }

    /** Writes {@link #config} shaped random weights (positive norm scales, layer scales ~0.3) into {@code weights}. */
    static void randomWeights(VisionConfig config, InMemoryTensorSource weights) {
        int[] widths = config.hiddenSizes();
        int p = config.patchSize();
        weights.put("embeddings.patch_embeddings.weight", 0, 1 / Math.sqrt(3.0 * p * p), widths[0], 3, p, p);
        weights.put("embeddings.patch_embeddings.bias", 0, 0.1, widths[0]);
        weights.put("embeddings.layernorm.weight", 1, 0.1, widths[0]);
        weights.put("embeddings.layernorm.bias", 0, 0.1, widths[0]);
        for (int s = 0; s < widths.length; s++) {
            String stage = "encoder.stages." + s;
            int c = widths[s];
            if (s > 0) {
                int in = widths[s - 1];
                weights.put(stage + ".downsampling_layer.0.weight", 1, 0.1, in);
                weights.put(stage + ".downsampling_layer.0.bias", 0, 0.1, in);
                weights.put(stage + ".downsampling_layer.1.weight", 0, 1 / Math.sqrt(4.0 * in), c, in, 2, 2);
                weights.put(stage + ".downsampling_layer.1.bias", 0, 0.1, c);
            }
            for (int j = 0; j < config.depths()[s]; j++) {
                String layer = stage + ".layers." + j;
                weights.put(layer + ".dwconv.weight", 0, 1 / 7.0, c, 1, 7, 7);
                weights.put(layer + ".dwconv.bias", 0, 0.1, c);
                weights.put(layer + ".layernorm.weight", 1, 0.1, c);
                weights.put(layer + ".layernorm.bias", 0, 0.1, c);
                weights.put(layer + ".pwconv1.weight", 0, 1 / Math.sqrt(c), 4L * c, c);
                weights.put(layer + ".pwconv1.bias", 0, 0.1, 4L * c);
                weights.put(layer + ".pwconv2.weight", 0, 1 / Math.sqrt(4.0 * c), c, 4L * c);
                weights.put(layer + ".pwconv2.bias", 0, 0.1, c);
                weights.put(layer + ".layer_scale_parameter", 0.3, 0.05, c);
            }
        }
    }

    /** One image [3][H][W] -> tokens [(H/f)*(W/f)][C] flattened, row-major over (h, w). */
    double[] tokens(double[] image, int height, int width) {
        int[] widths = config.hiddenSizes();
        int p = config.patchSize();
        FeatureMap x = conv(new FeatureMap(image, 3, height, width), w("embeddings.patch_embeddings.weight"),
                w("embeddings.patch_embeddings.bias"), widths[0], p, p, 0, 1);
        channelNorm(x, w("embeddings.layernorm.weight"), w("embeddings.layernorm.bias"));
        for (int s = 0; s < widths.length; s++) {
            String stage = "encoder.stages." + s;
            if (s > 0) {
                channelNorm(x, w(stage + ".downsampling_layer.0.weight"), w(stage + ".downsampling_layer.0.bias"));
                x = conv(x, w(stage + ".downsampling_layer.1.weight"), w(stage + ".downsampling_layer.1.bias"),
                        widths[s], 2, 2, 0, 1);
            }
            for (int j = 0; j < config.depths()[s]; j++) {
                x = block(x, stage + ".layers." + j);
            }
        }
        double[] out = new double[x.c * x.h * x.w];
        for (int i = 0; i < x.h; i++) {
            for (int j = 0; j < x.w; j++) {
                for (int ch = 0; ch < x.c; ch++) {
                    out[(i * x.w + j) * x.c + ch] = x.at(ch, i, j);
                }
            }
        }
        return out;
    }

    private FeatureMap block(FeatureMap x, String prefix) {
        int c = x.c;
        FeatureMap y = conv(x, w(prefix + ".dwconv.weight"), w(prefix + ".dwconv.bias"), c, 7, 1, 3, c);
        channelNorm(y, w(prefix + ".layernorm.weight"), w(prefix + ".layernorm.bias"));
        float[] w1 = w(prefix + ".pwconv1.weight");
        float[] b1 = w(prefix + ".pwconv1.bias");
        float[] w2 = w(prefix + ".pwconv2.weight");
        float[] b2 = w(prefix + ".pwconv2.bias");
        float[] gamma = w(prefix + ".layer_scale_parameter");
        FeatureMap out = new FeatureMap(new double[x.data.length], c, x.h, x.w);
        double[] hidden = new double[4 * c];
        for (int i = 0; i < x.h; i++) {
            for (int j = 0; j < x.w; j++) {
                for (int k = 0; k < 4 * c; k++) {
                    double acc = b1[k];
                    for (int ch = 0; ch < c; ch++) {
                        acc += w1[k * c + ch] * y.at(ch, i, j);
                    }
                    hidden[k] = gelu(acc);
                }
                for (int ch = 0; ch < c; ch++) {
                    double acc = b2[ch];
                    for (int k = 0; k < 4 * c; k++) {
                        acc += w2[ch * 4 * c + k] * hidden[k];
                    }
                    out.set(ch, i, j, x.at(ch, i, j) + gamma[ch] * acc);
                }
            }
        }
        return out;
    }

    /** Conv2d with square kernel k, stride, zero padding and groups; weights [O][C/groups][k][k]. */
    private static FeatureMap conv(FeatureMap x, float[] weight, float[] bias, int outChannels, int k, int stride, int pad,
                            int groups) {
        int oh = (x.h + 2 * pad - k) / stride + 1;
        int ow = (x.w + 2 * pad - k) / stride + 1;
        int inPerGroup = x.c / groups;
        int outPerGroup = outChannels / groups;
        FeatureMap out = new FeatureMap(new double[outChannels * oh * ow], outChannels, oh, ow);
        for (int o = 0; o < outChannels; o++) {
            int firstIn = (o / outPerGroup) * inPerGroup;
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double acc = bias[o];
                    for (int ci = 0; ci < inPerGroup; ci++) {
                        for (int u = 0; u < k; u++) {
                            for (int v = 0; v < k; v++) {
                                int yy = i * stride - pad + u;
                                int xx = j * stride - pad + v;
                                if (yy >= 0 && yy < x.h && xx >= 0 && xx < x.w) {
                                    acc += weight[((o * inPerGroup + ci) * k + u) * k + v] * x.at(firstIn + ci, yy, xx);
                                }
                            }
                        }
                    }
                    out.set(o, i, j, acc);
                }
            }
        }
        return out;
    }

    /** LayerNorm over the channels of every pixel, in place (biased variance, like torch). */
    private static void channelNorm(FeatureMap x, float[] gamma, float[] beta) {
        for (int i = 0; i < x.h; i++) {
            for (int j = 0; j < x.w; j++) {
                double mean = 0;
                for (int ch = 0; ch < x.c; ch++) {
                    mean += x.at(ch, i, j);
                }
                mean /= x.c;
                double var = 0;
                for (int ch = 0; ch < x.c; ch++) {
                    double d = x.at(ch, i, j) - mean;
                    var += d * d;
                }
                var /= x.c;
                double inv = 1 / Math.sqrt(var + EPS);
                for (int ch = 0; ch < x.c; ch++) {
                    x.set(ch, i, j, (x.at(ch, i, j) - mean) * inv * gamma[ch] + beta[ch]);
                }
            }
        }
    }

    static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /** erf via the Numerical Recipes Chebyshev fit of erfc (fractional error below 1.2e-7). */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }

    private float[] w(String name) {
        return weights.get(name);
    }

    /** A [c][h][w] map. */
    private record FeatureMap(double[] data, int c, int h, int w) {
        double at(int ch, int i, int j) {
            return data[(ch * h + i) * w + j];
        }

        void set(int ch, int i, int j, double v) {
            data[(ch * h + i) * w + j] = v;
        }
    }
}
