package io.convllava.cli.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** One node process of a local cluster: its resident memory once the cluster was ready and after the bench. */
public record NodeMemory(String node, long pid, ResidentMemory ready, ResidentMemory end) {

    /** The JSON fields of the bench reports: node, role, pid, rss_ready_bytes, rss_end_bytes, hwm_end_bytes. */
    public Map<String, Object> json() {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("node", node);
        n.put("role", role());
        n.put("pid", pid);
        n.put("rss_ready_bytes", ready.rssBytes());
        n.put("rss_end_bytes", end.rssBytes());
        n.put("hwm_end_bytes", end.hwmBytes());
        return n;
    }

    /** vision, llm or coordinator: the local cluster names its nodes "vision-0", "llm-1", "coordinator-3fa2c1". */
    public String role() {
        int dash = node.indexOf('-');
        return dash < 0 ? node : node.substring(0, dash);
    }
}
