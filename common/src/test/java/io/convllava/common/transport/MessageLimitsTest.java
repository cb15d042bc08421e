package io.convllava.common.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessageLimitsTest {
    @Test
    void anImageOverTheLimitIsRefusedByName() {
        assertDoesNotThrow(() -> MessageLimits.checkImage("photo.png", MessageLimits.MAX_IMAGE_BYTES));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MessageLimits.checkImage("photo.png", 72_000_129));
        assertEquals("photo.png is 72000129 bytes; images are limited to 33554432 bytes (32 MiB): resize it or save"
                + " it as JPEG", e.getMessage());
    }

    @Test
    void messagesHoldAnImageOverTheLimitSoTheRequestChecksCanNameIt() {
        assertTrue(MessageLimits.MAX_MESSAGE_BYTES > 72_000_129);
        assertEquals(MessageLimits.MAX_MESSAGE_BYTES, TransportOptions.DEFAULTS.maxMessageBytes());
    }
}
