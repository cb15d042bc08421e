package io.convllava.llm.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;

/**
 * Where the decoder runs and in which precision: {@code "cpu"} is float32 (float16 matMul on CPU is 40-60x slower),
 * {@code "gpu"} / {@code "gpu:N"} is float16 weights and activations, with RMSNorm and softmax in float32.
 */
record ComputeTarget(Device device, DataType dtype) {

    static ComputeTarget parse(String device) {
        if (device == null || device.equals("cpu")) {
            return new ComputeTarget(Device.cpu(), DataType.FLOAT32);
        }
        if (device.equals("gpu")) {
            return new ComputeTarget(Device.gpu(), DataType.FLOAT16);
        }
        if (device.startsWith("gpu:")) {
            try {
                return new ComputeTarget(Device.gpu(Integer.parseInt(device.substring(4))), DataType.FLOAT16);
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("unknown decoder device '" + device + "': expected cpu, gpu or gpu:N");
    }
}
