package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import io.convllava.common.checkpoint.CheckpointException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LLaVA's multimodal projector ({@code model.mm_projector}), built like LLaVA's {@code build_vision_projector}:
 * {@code linear} is one Linear(mm_hidden -> hidden); {@code mlpNx_gelu} is N Linears with exact GELU between them
 * (Sequential indices 0, 2, 4, ...; the GELUs at the odd indices have no weights).
 */
final class Projector {
    static final String KEY_PREFIX = "model.mm_projector";
    private static final Pattern MLP_GELU = Pattern.compile("^mlp(\\d+)x_gelu$");

    private final List<LinearLayer> linears;
    private final int[] widths;

    private Projector(List<LinearLayer> linears, int mmHiddenSize, int hiddenSize) {
        this.linears = linears;
        this.widths = new int[linears.size() + 1];
        Arrays.fill(widths, hiddenSize);
        widths[0] = mmHiddenSize;
    }

    /**
     * @param type       the config's {@code mm_projector_type}
     * @param configFile the LLM config the type came from, named in the error for an unknown type
     */
    static Projector load(String type, int mmHiddenSize, int hiddenSize, WeightLoader weights, Path configFile) {
        if ("linear".equals(type)) {
            return new Projector(List.of(LinearLayer.load(weights, KEY_PREFIX, mmHiddenSize, hiddenSize)), mmHiddenSize,
                    hiddenSize);
        }
        Matcher mlp = MLP_GELU.matcher(type == null ? "" : type);
        if (!mlp.matches() || Integer.parseInt(mlp.group(1)) < 1) {
            throw new CheckpointException("unsupported mm_projector_type '" + type + "' in " + configFile
                    + " (supported: linear, mlpNx_gelu such as mlp2x_gelu)");
        }
        int depth = Integer.parseInt(mlp.group(1));
        List<LinearLayer> linears = new ArrayList<>(depth);
        for (int i = 0; i < depth; i++) {
            int in = i == 0 ? mmHiddenSize : hiddenSize;
            linears.add(LinearLayer.load(weights, KEY_PREFIX + "." + (2 * i), in, hiddenSize));
        }
        return new Projector(List.copyOf(linears), mmHiddenSize, hiddenSize);
    }

    /** Visual tokens [B, N, mm_hidden] -> LLM embeddings [B, N, hidden]; at most two [B, N, hidden] live at once. */
    NDArray forward(NDArray features) {
        NDArray x = linears.get(0).forward(features);
        for (int i = 1; i < linears.size(); i++) {
            NDArray activated = Activation.gelu(x);
            x.close();
            try (activated) {
                x = linears.get(i).forward(activated);
            }
        }
        return x;
    }

    /** Widths along the projector: mm_hidden, then each Linear's output (hidden). */
    int[] widths() {
        return widths.clone();
    }
}
