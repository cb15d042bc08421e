package io.convllava.coordinator.server;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmissionControlTest {

    @Test
    void refusesBeyondRunningAndQueuedWithARetryHint() throws Exception {
        AdmissionControl admission = new AdmissionControl(1, 1);
        AdmissionControl.Permit running = admission.admit(1000);
        CountDownLatch queued = new CountDownLatch(1);
        CompletableFuture<AdmissionControl.Permit> waiter = CompletableFuture.supplyAsync(() -> {
            queued.countDown();
            try {
                return admission.admit(10_000);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        queued.await();
        StatusRuntimeException refused = null;
        for (int i = 0; i < 200 && refused == null; i++) { // until the waiter has queued up
            try {
                admission.admit(0).close();
            } catch (StatusRuntimeException e) {
                // DEADLINE_EXCEEDED while the queue still had room: the waiter has not queued yet
                refused = e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED ? e : null;
            }
            if (refused == null) {
                Thread.sleep(10);
            }
        }
        assertNotNull(refused, "a third request should be refused while one runs and one waits");
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
        assertTrue(refused.getStatus().getDescription().contains("retry in about"));
        assertNotNull(refused.getTrailers().get(AdmissionControl.RETRY_AFTER_MS));

        running.close();
        waiter.get(5, TimeUnit.SECONDS).close();
        assertEquals(0, admission.active());
    }

    @Test
    void waitingPastTheDeadlineIsDeadlineExceeded() throws Exception {
        AdmissionControl admission = new AdmissionControl(1, 4);
        try (AdmissionControl.Permit ignored = admission.admit(1000)) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> admission.admit(20));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        }
    }
}
