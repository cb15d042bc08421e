package io.convllava.common.cluster;

/** What a cluster member does. */
public enum NodeRole {
    /** Encodes images into embeddings. */
    VISION,
    /** Holds a contiguous range of decoder layers and their KV cache. */
    LLM,
    /** Serves the public API and routes requests over vision nodes and llm pipelines. */
    COORDINATOR
}
