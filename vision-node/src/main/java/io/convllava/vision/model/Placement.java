package io.convllava.vision.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.convllava.common.model.ComputeTarget;

/** A {@link ComputeTarget} in DJL's terms: the device the encoder's arrays live on and their data type. */
record Placement(Device device, DataType dataType) {

    static Placement of(ComputeTarget target) {
        Device device = target.gpu() ? Device.gpu(target.gpuIndex()) : Device.cpu();
        return new Placement(device, target.precision() == ComputeTarget.Precision.FLOAT16
                ? DataType.FLOAT16 : DataType.FLOAT32);
    }

    static Placement parse(String device) {
        return of(ComputeTarget.parse(device));
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
