package io.convllava.common.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * How many live LLM nodes hold each decoder layer, for status output and readiness.
 *
 * @param replicas number of nodes holding layer i, one entry per layer
 */
public record LayerCoverage(List<Integer> replicas) {
    public LayerCoverage {
        replicas = List.copyOf(replicas);
    }

    /** Coverage of {@code numLayers} layers by these loaded ranges (ranges past the end are cut off). */
    public static LayerCoverage of(Collection<LayerRange> loaded, int numLayers) {
        int[] counts = new int[numLayers];
        for (LayerRange r : loaded) {
            for (int layer = r.start(); layer < Math.min(r.end(), numLayers); layer++) {
                counts[layer]++;
            }
        }
        List<Integer> replicas = new ArrayList<>(numLayers);
        for (int c : counts) {
            replicas.add(c);
        }
        return new LayerCoverage(replicas);
    }

    public int numLayers() {
        return replicas.size();
    }

    public int replicas(int layer) {
        return replicas.get(layer);
    }

    /** The fewest nodes holding any layer; 0 if some layer is missing (or there are no layers). */
    public int minReplicas() {
        return replicas.stream().mapToInt(Integer::intValue).min().orElse(0);
    }

    public boolean isComplete() {
        return minReplicas() > 0;
    }

    /** Maximal runs of layers no node holds. */
    public List<LayerRange> missing() {
        return runs().stream().filter(run -> run.count == 0).map(Run::range).toList();
    }

    /** E.g. {@code "0-16 x2, 16-30 x1, 30-32 missing"} (half-open ranges). */
    @Override
    public String toString() {
        if (replicas.isEmpty()) {
            return "no layers";
        }
        List<String> parts = new ArrayList<>();
        for (Run run : runs()) {
            parts.add(run.range + (run.count == 0 ? " missing" : " x" + run.count));
        }
        return String.join(", ", parts);
    }

    private List<Run> runs() {
        List<Run> runs = new ArrayList<>();
        int start = 0;
        for (int layer = 1; layer <= replicas.size(); layer++) {
            if (layer == replicas.size() || !replicas.get(layer).equals(replicas.get(start))) {
                runs.add(new Run(new LayerRange(start, layer), replicas.get(start)));
                start = layer;
            }
        }
        return runs;
    }

    private record Run(LayerRange range, int count) {
    }
}
