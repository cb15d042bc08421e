package io.convllava.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.config.VisionConfig;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.tensor.HostTensor;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * ConvLLaVA's {@code encode_images}: ConvNeXt tower, then the multimodal projector. Weights live in one capped
 * manager; each {@link #encode} computes in its own sub-manager that is closed before returning. Calls are
 * serialized, so one instance may be shared between threads.
 */
public final class VisionEncoder implements AutoCloseable {
    private final Placement target;
    private final NDManager weights;
    private final ConvNextTower tower;
    private final Projector projector;
    private final int resolution;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    private VisionEncoder(Placement target, NDManager weights, ConvNextTower tower, Projector projector,
                          int resolution) {
        this.target = target;
        this.weights = weights;
        this.tower = tower;
        this.projector = projector;
        this.resolution = resolution;
    }

    /** Loads on {@code "cpu"} (float32) or {@code "gpu"} / {@code "gpu:N"} (float16), silently. */
    public static VisionEncoder load(ModelFiles files, String device) {
        return load(files, device, line -> { });
    }

    /** Like {@link #load(ModelFiles, String)}, with progress lines ("loading vision tower: stage 3/5") to a callback. */
    public static VisionEncoder load(ModelFiles files, String device, Consumer<String> progress) {
        try (TensorSource towerWeights = files.openVisionWeights();
             TensorSource llmWeights = files.openLlmWeights()) {
            return load(files.visionConfig(), files.llmConfig(), files.llmDir().resolve("config.json"),
                    files.preprocessorConfig().cropHeight(), towerWeights, llmWeights, Placement.parse(device),
                    progress);
        }
    }

    static VisionEncoder load(VisionConfig visionConfig, LlmConfig llmConfig, Path llmConfigFile, int resolution,
                              TensorSource towerWeights, TensorSource llmWeights, Placement target,
                              Consumer<String> progress) {
        NDManager manager = NDManager.newBaseManager(target.device(), "PyTorch");
        try {
            ConvNextTower tower = ConvNextTower.load(visionConfig, new WeightLoader(towerWeights, manager, target),
                    progress);
            progress.accept("loading projector: " + llmConfig.mmProjectorType());
            Projector projector = Projector.load(llmConfig.mmProjectorType(), visionConfig.outputChannels(),
                    llmConfig.hiddenSize(), new WeightLoader(llmWeights, manager, target), llmConfigFile);
            manager.cap();
            return new VisionEncoder(target, manager, tower, projector, resolution);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** Pixels float32 [B, 3, R, R] -> features [B, N, C] and embeddings [B, N, H], both float32. */
    public EncodedImages encode(HostTensor pixels) {
        checkPixels(pixels);
        lock.lock();
        try (NDManager scope = openScope()) {
            NDArray x = target.cast(scope.create(pixels.data(), new Shape(pixels.shape()))); // [B, 3, R, R]
            NDArray features = tower.forward(x);                                                // [B, N, C]
            NDArray embeddings = projector.forward(features);                                   // [B, N, H]
            return new EncodedImages(toHost(features), toHost(embeddings));
        } finally {
            lock.unlock();
        }
    }

    /** Visual tokens per image: (R / downsample factor)^2. */
    public int tokensPerImage() {
        int side = resolution / tower.config().downsampleFactor();
        return side * side;
    }

    /** The square input side R the encoder expects. */
    public int resolution() {
        return resolution;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed) {
                closed = true;
                weights.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The manager holding the weights, for leak checks. */
    NDManager weightsManager() {
        return weights;
    }

    private NDManager openScope() {
        if (closed) {
            throw new IllegalStateException("vision encoder is closed");
        }
        return weights.newSubManager();
    }

    private void checkPixels(HostTensor pixels) {
        long[] s = pixels.shape();
        int channels = tower.config().numChannels();
        if (s.length != 4 || s[0] < 1 || s[1] != channels || s[2] != resolution || s[3] != resolution) {
            throw new IllegalArgumentException("pixels must have shape [B, " + channels + ", " + resolution + ", "
                    + resolution + "] with B >= 1, got " + Arrays.toString(s));
        }
    }

    private static HostTensor toHost(NDArray array) {
        float[] data = array.toType(DataType.FLOAT32, false).toFloatArray();
        return new HostTensor(array.getShape().getShape(), data);
    }
}
