package io.convllava.common.model;

import java.util.Locale;

/**
 * Where a model part runs and in which precision: {@code cpu} computes in float32 (half-precision products on a CPU
 * are many times slower), {@code gpu} / {@code gpu:N} in float16 like the reference's
 * {@code .to('cuda', dtype=torch.float16)}. Every node and the in-process engine take this one type.
 *
 * @param gpu       false for the CPU
 * @param gpuIndex  which GPU (0 for the CPU)
 * @param precision the weights' and activations' type
 */
public record ComputeTarget(boolean gpu, int gpuIndex, Precision precision) {
    public static final ComputeTarget CPU = new ComputeTarget(false, 0, Precision.FLOAT32);

    /** The compute type of weights and activations (norms and softmax run in float32 either way). */
    public enum Precision { FLOAT32, FLOAT16 }

    public ComputeTarget {
        if (gpuIndex < 0 || (!gpu && gpuIndex != 0)) {
            throw new IllegalArgumentException("gpu index must be >= 0 and only set for a GPU, got " + gpuIndex);
        }
    }

    /** {@code cpu}, {@code gpu} (the first GPU) or {@code gpu:N}. */
    public static ComputeTarget parse(String name) {
        String n = name == null ? "cpu" : name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("cpu")) {
            return CPU;
        }
        if (n.equals("gpu")) {
            return new ComputeTarget(true, 0, Precision.FLOAT16);
        }
        if (n.startsWith("gpu:")) {
            try {
                int index = Integer.parseInt(n.substring(4));
                if (index >= 0) {
                    return new ComputeTarget(true, index, Precision.FLOAT16);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("unknown device '" + name + "': expected cpu, gpu or gpu:N (N >= 0)");
    }

    /** The same device computing in {@code p} (tests run the float16 path on a CPU). */
    public ComputeTarget withPrecision(Precision p) {
        return new ComputeTarget(gpu, gpuIndex, p);
    }

    @Override
    public String toString() {
        return (gpu ? "gpu:" + gpuIndex : "cpu") + (precision == (gpu ? Precision.FLOAT16 : Precision.FLOAT32)
                ? "" : " (" + precision.name().toLowerCase(Locale.ROOT) + ")");
    }
}
