package io.convllava.vision.model;

import io.convllava.common.config.VisionConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EncodeCostTest {
    /** Patch 2, two stages (widths 4, 8, one block each): an 8 px image is a 4x4 map, then 2x2 = 4 tokens. */
    private static final VisionConfig SMALL = new VisionConfig(3, 2, new int[] {1, 1}, new int[] {4, 8}, "gelu", 8);
    /** mlp2x_gelu from 8 channels to hidden 6. */
    private static final int[] PROJECTOR = {8, 6, 6};

    @Test
    void flopsOfASmallTowerByHand() {
        long stem = 16 * 4 * (2 * 12 + 1 + 8);                      // 16 positions x 4 channels: 3x2x2 conv, bias, LN
        long block0 = 16 * (4 * (2 * 49 + 1)                        // depthwise 7x7 + bias
                + 4 * 8                                              // LayerNorm
                + 16 * (2 * 4 + 1) + 16 * 5                          // 4 -> 16 + bias, GELU
                + 4 * (2 * 16 + 1)                                   // 16 -> 4 + bias
                + 2 * 4);                                            // layer scale, residual
        long downsampling = 16 * 4 * 8 + 4 * 8 * (2 * 16 + 1);      // LN over the 4x4x4 input; 2x2 conv 4 -> 8
        long block1 = 4 * (8 * 99 + 8 * 8 + 32 * 17 + 32 * 5 + 8 * 65 + 2 * 8);
        long projector = 4 * 6 * (2 * 8 + 1) + 4 * 6 * 5 + 4 * 6 * (2 * 6 + 1); // Linear, GELU, Linear
        assertEquals(2112 + 12672 + 1568 + 8384 + 840, stem + block0 + downsampling + block1 + projector);

        assertEquals(25576, EncodeCost.flops(SMALL, 8, PROJECTOR));
    }

    @Test
    void peakActivationBytesOfASmallTowerByHand() {
        // float32: pixels 3x8x8 = 768 B. Stage 0 map 4x4x4 = 256 B; its block's one band is the whole map at 4C
        // (1024 B), two live around the GELU: x + conv output + 2 bands = 2560 B, the largest phase.
        assertEquals(768 + 2560, EncodeCost.peakActivationBytes(SMALL, 8, PROJECTOR, 1, 4));
        assertEquals(2 * (768 + 2560), EncodeCost.peakActivationBytes(SMALL, 8, PROJECTOR, 2, 4));
        assertEquals((768 + 2560) / 2, EncodeCost.peakActivationBytes(SMALL, 8, PROJECTOR, 1, 2));
    }

    @Test
    void atHighResolutionTheFirstMapsDominateNotTheMlp() {
        // ConvNeXt-L + 5th stage at 1536 px: the stage-0 map is 192 x 384 x 384; its MLP runs in bands of 28 rows
        // (a 4C-wide band within 32 MiB), so the peak is the pixels plus 3 maps (stem LayerNorm, depthwise conv).
        VisionConfig large = new VisionConfig(3, 4, new int[] {3, 3, 27, 3, 6},
                new int[] {192, 384, 768, 1536, 3072}, "gelu", 1536);
        long map = 192L * 384 * 384 * 4;
        assertEquals(28, ConvNextLayer.rowsPerBand(1, 192, 384, 4));
        assertEquals(3L * 1536 * 1536 * 4 + 3 * map,
                EncodeCost.peakActivationBytes(large, 1536, new int[] {3072, 2048, 2048}, 1, 4));
    }
}
