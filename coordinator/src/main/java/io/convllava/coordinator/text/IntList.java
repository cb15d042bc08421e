package io.convllava.coordinator.text;

import java.util.Arrays;

/** A growable {@code int[]} for building token id sequences without boxing. */
final class IntList {
    private int[] items;
    private int size;

    IntList(int capacity) {
        items = new int[Math.max(capacity, 4)];
    }

    void add(int value) {
        if (size == items.length) {
            items = Arrays.copyOf(items, size * 2);
        }
        items[size++] = value;
    }

    void addAll(int[] values, int from) {
        for (int i = from; i < values.length; i++) {
            add(values[i]);
        }
    }

    int size() {
        return size;
    }

    /** A copy of elements {@code [from, to)}. */
    int[] slice(int from, int to) {
        return Arrays.copyOfRange(items, from, to);
    }

    int[] toArray() {
        return Arrays.copyOf(items, size);
    }
}
