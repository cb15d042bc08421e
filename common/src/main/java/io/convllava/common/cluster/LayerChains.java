package io.convllava.common.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/** Chains of layer ranges: each range {@code [s, e)} is a step from position s to position e. */
final class LayerChains {
    private static final Comparator<LayerRange> ORDER =
            Comparator.comparingInt(LayerRange::start).thenComparingInt(LayerRange::end);

    private LayerChains() {
    }

    /** Whether some of the ranges chain contiguously from layer 0 to {@code numLayers}. */
    static boolean connects(Collection<LayerRange> ranges, int numLayers) {
        boolean[] reached = new boolean[numLayers + 1];
        reached[0] = true;
        List<LayerRange> sorted = ranges.stream().sorted(ORDER).toList();
        for (LayerRange r : sorted) {
            if (r.end() <= numLayers && reached[r.start()]) {
                reached[r.end()] = true;
            }
        }
        return reached[numLayers];
    }

    /**
     * The gaps to fill so that the ranges plus the gaps chain from 0 to {@code numLayers}, using at most
     * {@code maxGaps} gaps: fewest layers in gaps first, then fewest steps. A gap never directly follows another gap
     * (that would be one gap). Ties go to the first found with ranges in (start, end) order.
     *
     * @param maxGaps at least 1 (one gap {@code [0, numLayers)} always works)
     */
    static List<LayerRange> cheapestCompletion(Collection<LayerRange> ranges, int numLayers, int maxGaps) {
        List<LayerRange> steps = ranges.stream().filter(r -> r.end() <= numLayers).distinct().sorted(ORDER).toList();
        int gapsAllowed = Math.min(maxGaps, steps.size() + 1);
        // state (position, gaps used, whether the step into it was a gap)
        State[][][] best = new State[numLayers + 1][gapsAllowed + 1][2];
        best[0][0][0] = new State(0, 0, 0, false, 0, null);
        int nextStep = 0;
        for (int pos = 0; pos < numLayers; pos++) {
            int firstStep = nextStep;
            while (nextStep < steps.size() && steps.get(nextStep).start() == pos) {
                nextStep++;
            }
            for (int gaps = 0; gaps <= gapsAllowed; gaps++) {
                for (int viaGap = 0; viaGap < 2; viaGap++) {
                    State from = best[pos][gaps][viaGap];
                    if (from == null) {
                        continue;
                    }
                    for (int s = firstStep; s < nextStep; s++) {
                        relax(best, from.then(steps.get(s).end(), false));
                    }
                    if (viaGap == 0 && gaps < gapsAllowed) {
                        for (int end = pos + 1; end <= numLayers; end++) {
                            relax(best, from.then(end, true));
                        }
                    }
                }
            }
        }
        State done = null;
        for (State[] byGaps : best[numLayers]) {
            for (State s : byGaps) {
                if (s != null && (done == null || s.betterThan(done))) {
                    done = s;
                }
            }
        }
        List<LayerRange> gaps = new ArrayList<>();
        for (State s = done; s != null && s.previous != null; s = s.previous) {
            if (s.viaGap) {
                gaps.add(new LayerRange(s.previous.position, s.position));
            }
        }
        Collections.reverse(gaps);
        return gaps;
    }

    private static void relax(State[][][] best, State candidate) {
        State[] slot = best[candidate.position][candidate.gaps];
        int i = candidate.viaGap ? 1 : 0;
        if (slot[i] == null || candidate.betterThan(slot[i])) {
            slot[i] = candidate;
        }
    }

    /** How a position was reached: {@code gapLayers} layers in {@code gaps} gaps, {@code steps} steps in all. */
    private record State(int position, int gaps, int gapLayers, boolean viaGap, int steps, State previous) {
        State then(int end, boolean gap) {
            return new State(end, gaps + (gap ? 1 : 0), gapLayers + (gap ? end - position : 0), gap, steps + 1, this);
        }

        boolean betterThan(State other) {
            return gapLayers != other.gapLayers ? gapLayers < other.gapLayers : steps < other.steps;
        }
    }
}
