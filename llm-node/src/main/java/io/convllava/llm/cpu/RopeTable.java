package io.convllava.llm.cpu;

/**
 * LLaMA's rotary position embedding (HF {@code rotate_half}: dimension i pairs with i + d/2), with cos and sin
 * precomputed for every position exactly as the reference does: float32 inverse frequencies, a float32 product of
 * position and frequency, then cos and sin.
 */
final class RopeTable {
    private final int half;
    private final float[] cos; // [maxPositions, d/2]
    private final float[] sin; // [maxPositions, d/2]

    RopeTable(int headDim, int maxPositions, double theta) {
        this.half = headDim / 2;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            invFreq[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        cos = new float[maxPositions * half];
        sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /**
     * Rotates, in place, the {@code heads} head vectors of rows [firstRow, firstRow + rows) of x ([.., heads * d]);
     * row firstRow + r is at position {@code firstPosition + r}.
     */
    void apply(float[] x, int firstRow, int rows, int heads, int firstPosition) {
        int d = 2 * half;
        for (int r = firstRow; r < firstRow + rows; r++) {
            int table = (firstPosition + r - firstRow) * half;
            for (int h = 0; h < heads; h++) {
                int base = (r * heads + h) * d;
                for (int i = 0; i < half; i++) {
                    float x1 = x[base + i];
                    float x2 = x[base + half + i];
                    float c = cos[table + i];
                    float s = sin[table + i];
                    x[base + i] = x1 * c - x2 * s;
                    x[base + half + i] = x2 * c + x1 * s;
                }
            }
        }
    }
}
