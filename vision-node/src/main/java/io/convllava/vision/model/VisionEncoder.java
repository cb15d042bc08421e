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

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * ConvLLaVA's {@code encode_images}: ConvNeXt tower, then the multimodal projector. Weights live in one capped
 * manager; each {@link #encode} computes in its own sub-manager that is closed before returning. Encodes run
 * concurrently as long as their estimated activation memory ({@link #activationBytes}) fits the encode memory limit
 * together; beyond it they wait, and one that could never fit is refused.
 */
public final class VisionEncoder implements AutoCloseable {
    /** The default encode memory limit's ceiling. */
    public static final long MAX_DEFAULT_ENCODE_MEMORY = 4L << 30;

    private final Placement target;
    private final NDManager weights;
    private final ConvNextTower tower;
    private final Projector projector;
    private final int resolution;
    private final ActivationBudget budget;
    private final String revision;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock(); // encodes share it; close takes it alone
    private boolean closed;

    private VisionEncoder(Placement target, NDManager weights, ConvNextTower tower, Projector projector,
                          int resolution, ActivationBudget budget, String revision) {
        this.target = target;
        this.weights = weights;
        this.tower = tower;
        this.projector = projector;
        this.resolution = resolution;
        this.budget = budget;
        this.revision = revision;
    }

    /** Loads on {@code "cpu"} (float32) or {@code "gpu"} / {@code "gpu:N"} (float16), silently. */
    public static VisionEncoder load(ModelFiles files, String device) {
        return load(files, device, line -> { });
    }

    /**
     * Like {@link #load(ModelFiles, String)}, with progress lines ("loading vision tower: stage 3/5") to a callback;
     * the model's resolution and the {@linkplain #defaultEncodeMemoryLimit() default encode memory limit}.
     */
    public static VisionEncoder load(ModelFiles files, String device, Consumer<String> progress) {
        return load(files, device, files.preprocessorConfig().cropHeight(), defaultEncodeMemoryLimit(), progress);
    }

    /**
     * @param resolution            the square input side R (the model's: its preprocessor's crop size; the tower
     *                              itself takes any multiple of its downsample factor)
     * @param maxEncodeMemoryBytes  bound on the estimated activation memory of the encodes running at once
     */
    public static VisionEncoder load(ModelFiles files, String device, int resolution, long maxEncodeMemoryBytes,
                                     Consumer<String> progress) {
        Placement target = Placement.parse(device);
        String revision = ModelRevision.of(files, resolution, target.dataType().name());
        try (TensorSource towerWeights = files.openVisionWeights();
             TensorSource llmWeights = files.openLlmWeights()) {
            return load(files.visionConfig(), files.llmConfig(), files.llmDir().resolve("config.json"), resolution,
                    towerWeights, llmWeights, target, maxEncodeMemoryBytes, revision, progress);
        }
    }

    /** A quarter of this machine's physical memory, at most {@link #MAX_DEFAULT_ENCODE_MEMORY}. */
    public static long defaultEncodeMemoryLimit() {
        long physical = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        return Math.min(MAX_DEFAULT_ENCODE_MEMORY, physical / 4);
    }

    static VisionEncoder load(VisionConfig visionConfig, LlmConfig llmConfig, Path llmConfigFile, int resolution,
                              TensorSource towerWeights, TensorSource llmWeights, Placement target,
                              long maxEncodeMemoryBytes, String revision, Consumer<String> progress) {
        ActivationBudget budget = new ActivationBudget(maxEncodeMemoryBytes);
        NDManager manager = NDManager.newBaseManager(target.device(), "PyTorch");
        try {
            ConvNextTower tower = ConvNextTower.load(visionConfig, new WeightLoader(towerWeights, manager, target),
                    progress);
            progress.accept("loading projector: " + llmConfig.mmProjectorType());
            Projector projector = Projector.load(llmConfig.mmProjectorType(), visionConfig.outputChannels(),
                    llmConfig.hiddenSize(), new WeightLoader(llmWeights, manager, target), llmConfigFile);
            manager.cap();
            // the float32 read buffers are direct Java buffers, freed only by a collection: without one, a vision node
            // held them beside libtorch's copies (9.5 GB resident instead of 3.1 GB for the ConvNeXt-L + 5th stage)
            System.gc();
            return new VisionEncoder(target, manager, tower, projector, resolution, budget, revision);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Pixels float32 [B, 3, R, R] -> features [B, N, C] and embeddings [B, N, H], both float32. Waits while other
     * encodes hold the memory this one needs.
     *
     * @throws EncodeMemoryLimitException when {@link #activationBytes}(B) exceeds the limit on its own
     */
    public EncodedImages encode(HostTensor pixels) {
        checkPixels(pixels);
        int images = Math.toIntExact(pixels.shape()[0]);
        long bytes = activationBytes(images);
        if (!budget.fits(bytes)) {
            throw new EncodeMemoryLimitException(images, resolution, bytes, budget.limitBytes());
        }
        try (ActivationBudget.Reservation reserved = budget.reserve(bytes)) {
            lifecycle.readLock().lock();
            try (NDManager scope = openScope()) {
                NDArray x = target.cast(scope.create(pixels.data(), new Shape(pixels.shape()))); // [B, 3, R, R]
                NDArray features = tower.forward(x);                                                // [B, N, C]
                NDArray embeddings = projector.forward(features);                                   // [B, N, H]
                return new EncodedImages(toHost(features), toHost(embeddings));
            } finally {
                lifecycle.readLock().unlock();
            }
        }
    }

    /** FLOPs of encoding one image ({@link EncodeCost#flops}). */
    public long flopsPerImage() {
        return EncodeCost.flops(tower.config(), resolution, projector.widths());
    }

    /** Estimated peak activation bytes of encoding {@code images} at once ({@link EncodeCost#peakActivationBytes}). */
    public long activationBytes(int images) {
        return EncodeCost.peakActivationBytes(tower.config(), resolution, projector.widths(), images,
                target.dataType().getNumOfBytes());
    }

    /** The most images, up to {@code atMost}, that one encode may take within the limit; 0 when not even one fits. */
    public int imagesWithinLimit(int atMost) {
        int images = 0;
        while (images < atMost && budget.fits(activationBytes(images + 1))) {
            images++;
        }
        return images;
    }

    /** The bound on the estimated activation memory of the encodes running at once. */
    public long maxEncodeMemoryBytes() {
        return budget.limitBytes();
    }

    /** Visual tokens per image: (R / downsample factor)^2. */
    public int tokensPerImage() {
        int side = resolution / tower.config().downsampleFactor();
        return side * side;
    }

    /** What identifies this encoder's checkpoint, resolution and precision ({@link ModelRevision}). */
    public String revision() {
        return revision;
    }

    /** The square input side R the encoder expects. */
    public int resolution() {
        return resolution;
    }

    /** Frees the weights once the encodes running have finished; later encodes fail. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                weights.close();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /** The manager holding the weights, for leak checks. */
    NDManager weightsManager() {
        return weights;
    }

    /** The activation budget, for checks of what it admitted. */
    ActivationBudget budget() {
        return budget;
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
