package io.convllava.vision.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Where the encoder runs and in which precision: {@code "cpu"} is float32 (float16 on CPU is 40-60x slower),
 * {@code "gpu"} is float16 on the first GPU, like the reference's {@code .to('cuda', dtype=torch.float16)}.
 */
record ComputeTarget(Device device, DataType dataType) {

    static ComputeTarget parse(String name) {
        return switch (name) {
            case "cpu" -> new ComputeTarget(Device.cpu(), DataType.FLOAT32);
            case "gpu" -> new ComputeTarget(Device.gpu(), DataType.FLOAT16);
            default -> throw new IllegalArgumentException("unknown vision device '" + name + "' (expected cpu or gpu)");
        };
    }

    /** The array in the compute precision; the float32 original is closed when a cast was needed. */
    NDArray cast(NDArray float32) {
        if (float32.getDataType() == dataType) {
            return float32;
        }
        NDArray converted = float32.toType(dataType, false);
        float32.close();
        return converted;
    }
}
