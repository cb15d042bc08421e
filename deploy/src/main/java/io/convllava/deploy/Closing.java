package io.convllava.deploy;

/** Shutting a node down: every part gets closed even when an earlier one fails. */
final class Closing {
    private Closing() {
    }

    static void inOrder(AutoCloseable... parts) {
        for (AutoCloseable part : parts) {
            try {
                part.close();
            } catch (Exception e) {
                System.err.println("convllava: closing " + part.getClass().getSimpleName() + " failed: " + e);
            }
        }
    }
}
