package io.convllava.common.node;

/** Shutting a node down: every part gets closed even when an earlier one fails. */
public final class Closing {
    private Closing() {
    }

    public static void inOrder(AutoCloseable... parts) {
        for (AutoCloseable part : parts) {
            try {
                part.close();
            } catch (Exception e) {
                System.err.println("convllava: closing " + part.getClass().getSimpleName() + " failed: " + e);
            }
        }
    }
}
