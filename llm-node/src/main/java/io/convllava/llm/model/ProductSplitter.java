package io.convllava.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Weight products {@code x.matMul(w)}. A batch-1 decode step is bound by streaming the weights, and one libtorch
 * matrix-vector product streams only about one core's share of memory bandwidth (~20 GB/s here, whatever the intra-op
 * thread count), so on a CPU with two or more intra-op threads a one-row product is computed as two column halves:
 * one on the calling thread and one on a helper thread. Larger inputs (prefill) are one call, which libtorch
 * parallelises itself, and so are small weights, where handing work to the helper costs more than it saves.
 */
final class ProductSplitter implements AutoCloseable {
    /** 16 MB of float32 weights, about a millisecond of streaming: below that the hand-off is not worth it. */
    static final long MIN_SPLIT_ELEMENTS = 1L << 22;

    private final ExecutorService helper; // null: every product is one libtorch call

    private ProductSplitter(ExecutorService helper) {
        this.helper = helper;
    }

    static ProductSplitter forTarget(ComputeTarget target) {
        if (target.device().isGpu() || JniUtils.getNumThreads() < 2) {
            return new ProductSplitter(null);
        }
        return new ProductSplitter(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "llama-product-helper");
            t.setDaemon(true);
            return t;
        }));
    }

    /** x [T, in] -> [T, out], in x's manager. */
    NDArray product(NDArray x, SplitWeight w) {
        if (!splits(x, w)) {
            return x.matMul(w.full());
        }
        NDList halves = halves(x, w);
        return halves.get(0).concat(halves.get(1), 1);
    }

    /** x [T, in] -> x w[:, :split] [T, split] and x w[:, split:] [T, out - split], in x's manager. */
    NDList halves(NDArray x, SplitWeight w) {
        if (!splits(x, w)) {
            return x.matMul(w.full()).split(new long[] {w.split()}, 1);
        }
        Future<NDArray> right = helper.submit(() -> x.matMul(w.right()));
        NDArray left;
        NDArray rightProduct;
        try {
            left = x.matMul(w.left());
        } finally {
            rightProduct = join(right); // never leave the helper working on x
        }
        NDScope.register(rightProduct); // scopes are per thread: let the caller's scope free it
        return new NDList(left, rightProduct);
    }

    private boolean splits(NDArray x, SplitWeight w) {
        return helper != null && x.getShape().get(0) == 1 && w.full().size() >= MIN_SPLIT_ELEMENTS;
    }

    private static NDArray join(Future<NDArray> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("weight product failed on the helper thread", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a weight product", e);
        }
    }

    @Override
    public void close() {
        if (helper != null) {
            helper.shutdownNow();
        }
    }
}
