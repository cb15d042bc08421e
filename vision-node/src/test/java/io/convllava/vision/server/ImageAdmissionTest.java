package io.convllava.vision.server;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageAdmissionTest {
    @Test
    void aBusyNodeRefusesImagesBeyondItsBoundAndAnIdleOneTakesAnything() {
        ImageAdmission admission = new ImageAdmission(4);
        admission.admit(3);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> admission.admit(2));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("vision node busy: 3 image(s) in progress, 2 more would"
                + " exceed its limit of 4"), e.getStatus().getDescription());
        admission.admit(1);
        assertEquals(4, admission.queued());

        admission.release(4);
        admission.admit(10); // idle: a request larger than the bound runs alone
        assertEquals(10, admission.queued());
    }
}
