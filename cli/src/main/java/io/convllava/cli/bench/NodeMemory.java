package io.convllava.cli.bench;

/** One node process of a local cluster: its resident memory once the cluster was ready and after the bench. */
public record NodeMemory(String node, long pid, ResidentMemory ready, ResidentMemory end) {

    /** vision, llm or coordinator: the local cluster names its nodes "vision-0", "llm-1", "coordinator-3fa2c1". */
    public String role() {
        int dash = node.indexOf('-');
        return dash < 0 ? node : node.substring(0, dash);
    }
}
