package io.convllava.llm.model;

import ai.djl.pytorch.jni.JniUtils;

import java.util.function.Supplier;

/**
 * Runs a stretch of small CPU operations with one intra-op thread. A decode step's attention core (a few batched
 * products of [group, d] x [d, context] and a softmax over 8-row blocks) is far too small to gain from a second
 * thread, yet libtorch/MKL still open a two-thread parallel region for each op; when the cores are busy with other
 * work, every such region waits for its helper thread to be scheduled, which made the core 3x slower than the whole
 * layer's weight products together (measured: 38 vs 11 ms per TinyLlama layer on a loaded 2-core machine).
 *
 * <p>libtorch's thread count is process-wide state: another thread's parallel loops may run single-threaded while a
 * section is open. The count is restored to the value configured at start-up, so concurrent sections cannot leave it
 * lowered.
 */
final class SingleThreaded {
    private static final int CONFIGURED = JniUtils.getNumThreads();

    private SingleThreaded() {
    }

    static <T> T run(Supplier<T> work) {
        if (CONFIGURED <= 1) {
            return work.get();
        }
        JniUtils.setNumThreads(1);
        try {
            return work.get();
        } finally {
            JniUtils.setNumThreads(CONFIGURED);
        }
    }
}
