package io.convllava.coordinator.server;

import io.convllava.common.cluster.ClusterSnapshot;
import io.convllava.common.cluster.ClusterView;
import io.convllava.common.transport.Readiness;
import io.convllava.coordinator.routing.Router;

/**
 * Keeps a coordinator NOT_SERVING while routing has no complete pipeline: no chain of live llm nodes covers every
 * layer (one left, or was found dead). Re-evaluated on every membership change and whenever a node is found dead or
 * answers again; {@code onRegained} runs when a pipeline comes back (the canary then checks it at once).
 */
final class PipelineReadiness implements ClusterView.Listener {
    static final String CONDITION = "pipeline";

    private final Router router;
    private final Readiness readiness;
    private final int numLayers;
    private final Runnable onRegained;
    private boolean complete;

    PipelineReadiness(Router router, Readiness readiness, int numLayers, Runnable onRegained) {
        this.router = router;
        this.readiness = readiness;
        this.numLayers = numLayers;
        this.onRegained = onRegained;
    }

    @Override
    public void clusterChanged(ClusterSnapshot snapshot) {
        update();
    }

    synchronized void update() {
        boolean now = !router.assembly().pipelines().isEmpty();
        readiness.set(CONDITION, now, "no complete pipeline: the live llm nodes do not cover the model's "
                + numLayers + " layers");
        boolean regained = now && !complete;
        complete = now;
        if (regained) {
            onRegained.run();
        }
    }
}
