package io.convllava.llm.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.convllava.common.model.ComputeTarget;

/** A {@link ComputeTarget} in DJL's terms: the device the decoder's arrays live on and their data type. */
record Placement(Device device, DataType dtype) {

    static Placement of(ComputeTarget target) {
        Device device = target.gpu() ? Device.gpu(target.gpuIndex()) : Device.cpu();
        return new Placement(device, target.precision() == ComputeTarget.Precision.FLOAT16
                ? DataType.FLOAT16 : DataType.FLOAT32);
    }

    static Placement parse(String device) {
        return of(ComputeTarget.parse(device));
    }
}
