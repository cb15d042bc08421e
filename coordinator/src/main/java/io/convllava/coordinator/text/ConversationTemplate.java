package io.convllava.coordinator.text;

import java.util.List;
import java.util.Locale;

/**
 * LLaVA's {@code SeparatorStyle.TWO} chat templates ({@code llava/conversation.py}): {@code system + " "}, then per
 * message {@code ROLE + ": " + text} followed by {@code " "} after even-numbered messages (user) and {@code "</s>"}
 * after odd-numbered ones (assistant), ending with the open turn {@code "ASSISTANT:"} (no trailing space).
 */
public enum ConversationTemplate {

    /** {@code vicuna_v1} / {@code v1}: what ConvLLaVA was trained with; the default. */
    VICUNA_V1("A chat between a curious user and an artificial intelligence assistant. "
            + "The assistant gives helpful, detailed, and polite answers to the user's questions."),
    /** {@code llava_v1}: VLMEvalKit's choice for the published benchmark numbers. */
    LLAVA_V1("A chat between a curious human and an artificial intelligence assistant. "
            + "The assistant gives helpful, detailed, and polite answers to the human's questions.");

    public static final String IMAGE_PLACEHOLDER = "<image>";
    private static final String USER = "USER";
    private static final String ASSISTANT = "ASSISTANT";
    private static final String SEP = " ";
    private static final String SEP2 = "</s>";

    private final String system;

    ConversationTemplate(String system) {
        this.system = system;
    }

    public String system() {
        return system;
    }

    /** {@code vicuna_v1} (also {@code v1}) or {@code llava_v1}, case-insensitive. */
    public static ConversationTemplate byName(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "vicuna_v1", "v1" -> VICUNA_V1;
            case "llava_v1" -> LLAVA_V1;
            default -> throw new IllegalArgumentException("unknown conversation template \"" + name
                    + "\"; expected vicuna_v1, v1 or llava_v1");
        };
    }

    /**
     * The prompt for {@code messages}, which alternate user/assistant starting with the user and end with a user
     * message, after an optional system message that replaces this template's system prompt; the result ends with
     * the open {@code ASSISTANT:} turn.
     */
    public String render(List<ChatMessage> messages) {
        int first = !messages.isEmpty() && messages.get(0).role() == ChatMessage.Role.SYSTEM ? 1 : 0;
        int turns = messages.size() - first;
        if (turns == 0) {
            throw new IllegalArgumentException("a conversation needs at least one user message");
        }
        if (turns % 2 == 0) {
            throw new IllegalArgumentException("the last message must be from the user, got " + messages.size()
                    + " messages ending with an assistant reply");
        }
        StringBuilder sb = new StringBuilder(first == 1 ? messages.get(0).text() : system).append(SEP);
        for (int i = first; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            boolean user = (i - first) % 2 == 0;
            ChatMessage.Role expected = user ? ChatMessage.Role.USER : ChatMessage.Role.ASSISTANT;
            if (m.role() == ChatMessage.Role.SYSTEM) {
                throw new IllegalArgumentException("message " + i + " is a system message: only the first message"
                        + " may be one");
            }
            if (m.role() != expected) {
                throw new IllegalArgumentException("message " + i + " is from " + m.role() + " but should be from "
                        + expected + ": turns alternate, starting with the user");
            }
            String role = user ? USER : ASSISTANT;
            String content = withImagePlaceholders(m, i);
            if (content.isEmpty()) {
                sb.append(role).append(':'); // as LLaVA renders an empty message
            } else {
                sb.append(role).append(": ").append(content).append(user ? SEP : SEP2);
            }
        }
        return sb.append(ASSISTANT).append(':').toString();
    }

    /** {@code "<image>\n"} per image in front of the text, unless the text already holds exactly that many. */
    private static String withImagePlaceholders(ChatMessage m, int index) {
        int present = countPlaceholders(m.text());
        if (present == 0) {
            return (IMAGE_PLACEHOLDER + "\n").repeat(m.images()) + m.text();
        }
        if (present != m.images()) {
            throw new IllegalArgumentException("message " + index + " has " + present + " " + IMAGE_PLACEHOLDER
                    + " placeholders but " + m.images() + " images");
        }
        return m.text();
    }

    static int countPlaceholders(String text) {
        int n = 0;
        for (int i = text.indexOf(IMAGE_PLACEHOLDER); i >= 0; i = text.indexOf(IMAGE_PLACEHOLDER, i + 1)) {
            n++;
        }
        return n;
    }
}
