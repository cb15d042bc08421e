package io.convllava.common.node;

/**
 * Delays that fault tests add to a node's work, so that its process can be killed in the middle of that work. JVM
 * properties, read once by each component, off (0) unless set:
 * <ul>
 *   <li>{@value #PROMPT_STEP_DELAY}: milliseconds an llm node waits before each step that runs a prompt chunk of
 *       more than {@value #PROMPT_ROWS} positions (decodes and replayed tokens are not delayed);</li>
 *   <li>{@value #DECODE_STEP_DELAY}: milliseconds an llm node waits before each step that runs decodes only (one
 *       position per session), so that a stream lasts long enough for an outage to happen in its middle;</li>
 *   <li>{@value #ENCODE_DELAY}: milliseconds a vision node waits before each encode batch.</li>
 * </ul>
 */
public final class FaultInjection {
    public static final String PROMPT_STEP_DELAY = "convllava.fault.promptStepDelayMs";
    public static final String DECODE_STEP_DELAY = "convllava.fault.decodeStepDelayMs";
    public static final String ENCODE_DELAY = "convllava.fault.encodeDelayMs";
    public static final int PROMPT_ROWS = 16;

    private FaultInjection() {
    }

    /** The delay a property asks for, in milliseconds (0 when unset). */
    public static long delayMs(String property) {
        return Math.max(0, Long.getLong(property, 0));
    }

    public static void pause(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
