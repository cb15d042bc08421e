package io.convllava.coordinator.prefix;

import java.util.ArrayList;
import java.util.List;

/**
 * The ranges of a KV cache's positions that were computed as one prompt chunk of more than {@link #ROW_WISE} positions:
 * how the cache was made, so that a failover can make it again bit for bit. Positions outside these ranges were
 * computed in chunks of at most {@value #ROW_WISE} (decode steps, short prompts and prompt rests), which the CPU
 * nodes compute exactly as row by row (attention gives a row the same bits in any chunk; the weight products are
 * row-invariant below 128 rows): any split of them into such chunks gives the same bits; a longer chunk does not,
 * nor does another split of one (from 128 rows the weight products run as a packed matrix product).
 *
 * @param ranges sorted, disjoint {@code [start, end)} pairs
 */
public record PrefillChunks(List<Range> ranges) {
    /** The longest chunk the nodes compute exactly as row by row. */
    public static final int ROW_WISE = 127;
    public static final PrefillChunks NONE = new PrefillChunks(List.of());

    public PrefillChunks {
        ranges = List.copyOf(ranges);
    }

    /** {@code [start, end)} of a cache's positions. */
    public record Range(int start, int end) {
    }

    /** These, and {@code [start, end)} computed as one chunk, if it is longer than {@value #ROW_WISE}. */
    public PrefillChunks with(int start, int end) {
        if (end - start <= ROW_WISE) {
            return this;
        }
        List<Range> next = new ArrayList<>(ranges);
        next.add(new Range(start, end));
        return new PrefillChunks(next);
    }

    /**
     * The longest prefix of at most {@code length} positions that does not end inside a chunk: a new session may
     * continue from that many positions and compute the rest as it would have computed them itself. (Continuing from
     * the middle of a chunk, the chunk's last positions would run in other chunks, or as decode steps, and with other
     * bits: a repeated question would not get the tokens it got the first time.)
     */
    public int reusableLength(int length) {
        int reusable = length;
        for (Range r : ranges) {
            if (r.start() < reusable && reusable < r.end()) {
                reusable = r.start();
            }
        }
        return reusable;
    }

    /** The ranges within the first {@code length} positions (a range cut there keeps its first part). */
    public PrefillChunks truncatedTo(int length) {
        List<Range> kept = new ArrayList<>();
        for (Range r : ranges) {
            if (r.start() < length) {
                kept.add(new Range(r.start(), Math.min(r.end(), length)));
            }
        }
        return new PrefillChunks(kept);
    }
}
