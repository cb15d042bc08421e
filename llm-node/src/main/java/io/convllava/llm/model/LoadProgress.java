package io.convllava.llm.model;

/** Told after each decoder layer a {@link LlamaShard} has loaded. */
@FunctionalInterface
public interface LoadProgress {

    /**
     * @param loaded layers loaded so far (1-based count)
     * @param total  layers this shard loads ({@code end - start})
     */
    void layerLoaded(int start, int end, int loaded, int total);

    static LoadProgress silent() {
        return (start, end, loaded, total) -> { };
    }
}
