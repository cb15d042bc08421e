package io.convllava.coordinator.text;

import io.convllava.coordinator.text.SentencePieceModel.Piece;
import io.convllava.coordinator.text.SentencePieceModel.PieceType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece's BPE segmentation ({@code bpe_model.cc}) of already-normalized text: start from single characters
 * (user-defined pieces stay whole), repeatedly merge the adjacent pair whose concatenation is a piece with the highest
 * score (leftmost on ties), split UNUSED results back, then turn unknown symbols into {@code <0xNN>} byte pieces.
 * A priority queue over a linked list of symbols keeps long texts near O(n log n). Immutable, thread-safe.
 */
final class SentencePieceBpe {

    private final Map<String, Integer> mergeable = new HashMap<>(); // NORMAL, USER_DEFINED, UNUSED (sp's pieces_)
    private final Map<String, Integer> reserved = new HashMap<>();  // CONTROL, UNKNOWN, BYTE
    private final float[] scores;
    private final boolean[] unused;
    private final List<String> userDefinedLongestFirst = new ArrayList<>();
    private final int[] byteIds = new int[256];
    private final int unkId;
    private final boolean byteFallback;

    SentencePieceBpe(SentencePieceModel model) {
        List<Piece> pieces = model.pieces();
        scores = new float[pieces.size()];
        unused = new boolean[pieces.size()];
        Arrays.fill(byteIds, -1);
        for (int id = 0; id < pieces.size(); id++) {
            Piece p = pieces.get(id);
            scores[id] = p.score();
            switch (p.type()) {
                case NORMAL, USER_DEFINED, UNUSED -> mergeable.putIfAbsent(p.text(), id);
                default -> reserved.putIfAbsent(p.text(), id);
            }
            if (p.type() == PieceType.UNUSED) {
                unused[id] = true;
            } else if (p.type() == PieceType.USER_DEFINED) {
                userDefinedLongestFirst.add(p.text());
            } else if (p.type() == PieceType.BYTE) {
                int b = byteValue(p.text());
                if (b >= 0) {
                    byteIds[b] = id;
                }
            }
        }
        userDefinedLongestFirst.sort(Comparator.comparingInt(String::length).reversed());
        unkId = model.unkId();
        byteFallback = model.byteFallback();
    }

    /** Id of a piece of any type, or -1. */
    int pieceId(String piece) {
        Integer id = reserved.get(piece);
        if (id == null) {
            id = mergeable.get(piece);
        }
        return id == null ? -1 : id;
    }

    /** Byte of a {@code <0xNN>} piece text, or -1. */
    static int byteValue(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** Appends the ids of {@code normalized} (spaces already escaped to U+2581) to {@code out}. */
    void encode(String normalized, IntList out) {
        if (normalized.isEmpty()) {
            return;
        }
        Symbols s = initialSymbols(normalized);
        Map<String, String[]> revMerge = new HashMap<>();
        PriorityQueue<Pair> agenda = new PriorityQueue<>();
        for (int i = 1; i < s.count; i++) {
            maybeAddPair(normalized, s, i - 1, i, agenda, revMerge);
        }
        while (!agenda.isEmpty()) {
            Pair top = agenda.poll();
            int l = top.left;
            int r = top.right;
            if (s.len[l] == 0 || s.len[r] == 0 || s.len[l] + s.len[r] != top.size) {
                continue; // stale: one side was merged away or grew since this pair was queued
            }
            s.len[l] += s.len[r];
            s.len[r] = 0;
            s.next[l] = s.next[r];
            if (s.next[r] >= 0) {
                s.prev[s.next[r]] = l;
            }
            maybeAddPair(normalized, s, s.prev[l], l, agenda, revMerge);
            maybeAddPair(normalized, s, l, s.next[l], agenda, revMerge);
        }
        for (int i = 0; i >= 0; i = s.next[i]) {
            resegment(normalized.substring(s.start[i], s.start[i] + s.len[i]), revMerge, out);
        }
    }

    private Symbols initialSymbols(String text) {
        Symbols s = new Symbols(text.length());
        int i = 0;
        while (i < text.length()) {
            int n = userDefinedAt(text, i);
            boolean frozen = n > 0;
            if (!frozen) {
                n = Character.charCount(text.codePointAt(i));
            }
            s.add(i, n, frozen);
            i += n;
        }
        return s;
    }

    private int userDefinedAt(String text, int i) {
        for (String p : userDefinedLongestFirst) {
            if (text.startsWith(p, i)) {
                return p.length();
            }
        }
        return 0;
    }

    private void maybeAddPair(String text, Symbols s, int left, int right, PriorityQueue<Pair> agenda,
            Map<String, String[]> revMerge) {
        if (left < 0 || right < 0 || s.frozen[left] || s.frozen[right]) {
            return;
        }
        int size = s.len[left] + s.len[right];
        String merged = text.substring(s.start[left], s.start[left] + size);
        Integer id = mergeable.get(merged);
        if (id == null) {
            return;
        }
        agenda.add(new Pair(left, right, scores[id], size));
        if (unused[id]) {
            revMerge.put(merged, new String[] {
                text.substring(s.start[left], s.start[left] + s.len[left]),
                text.substring(s.start[right], s.start[right] + s.len[right])});
        }
    }

    private void resegment(String piece, Map<String, String[]> revMerge, IntList out) {
        int id = pieceId(piece);
        if (id >= 0 && unused[id]) {
            String[] halves = revMerge.get(piece);
            if (halves != null) {
                resegment(halves[0], revMerge, out);
                resegment(halves[1], revMerge, out);
                return;
            }
        }
        if (id < 0 || id == unkId) {
            emitUnknown(piece, out);
        } else {
            out.add(id);
        }
    }

    private void emitUnknown(String piece, IntList out) {
        if (!byteFallback) {
            out.add(unkId);
            return;
        }
        for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
            int id = byteIds[b & 0xff];
            out.add(id >= 0 ? id : unkId);
        }
    }

    /** Candidate merge of two adjacent symbols; best = highest score, then leftmost. */
    private record Pair(int left, int right, float score, int size) implements Comparable<Pair> {
        @Override
        public int compareTo(Pair o) {
            int c = Float.compare(o.score, score);
            return c != 0 ? c : Integer.compare(left, o.left);
        }
    }

    /** Doubly linked symbols over the text: symbol i covers text[start[i], start[i] + len[i]); len 0 = merged away. */
    private static final class Symbols {
        final int[] start;
        final int[] len;
        final int[] prev;
        final int[] next;
        final boolean[] frozen;
        int count;

        Symbols(int capacity) {
            start = new int[capacity];
            len = new int[capacity];
            prev = new int[capacity];
            next = new int[capacity];
            frozen = new boolean[capacity];
        }

        void add(int at, int length, boolean isFrozen) {
            int i = count++;
            start[i] = at;
            len[i] = length;
            frozen[i] = isFrozen;
            prev[i] = i - 1;
            next[i] = -1;
            if (i > 0) {
                next[i - 1] = i;
            }
        }
    }
}
