package io.convllava.common.transport;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.proto.v1.SamplingOptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplingCodecTest {

    @Test
    void roundTrips() {
        SamplingParams p = new SamplingParams(0.7f, 0.9f, 40, 1234L);
        assertEquals(p, SamplingCodec.decode(SamplingCodec.encode(p)));
    }

    @Test
    void unsetOptionsMeanGreedyWithTopPDisabled() {
        SamplingParams p = SamplingCodec.decode(SamplingOptions.getDefaultInstance(), 99L);
        assertTrue(p.greedy());
        assertEquals(1f, p.topP());
        assertEquals(99L, p.seed());
    }

    @Test
    void invalidValuesNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SamplingCodec.decode(SamplingOptions.newBuilder().setTemperature(-1f).build()));
        assertTrue(e.getMessage().startsWith("sampling.temperature must be a finite number >= 0"), e.getMessage());
    }
}
