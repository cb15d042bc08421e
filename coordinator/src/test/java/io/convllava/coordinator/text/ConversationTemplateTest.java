package io.convllava.coordinator.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConversationTemplateTest {

    private static final String VICUNA = "A chat between a curious user and an artificial intelligence assistant. "
            + "The assistant gives helpful, detailed, and polite answers to the user's questions.";

    @Test
    void rendersEveryReferencePrompt() {
        int checked = 0;
        for (String fixture : TokenizerFixtures.REFERENCES) {
            JsonObject ref = TokenizerFixtures.reference(fixture);
            JsonArray specCases = ref.getAsJsonObject("spec").getAsJsonArray("cases");
            JsonArray cases = ref.getAsJsonArray("cases");
            for (int i = 0; i < cases.size(); i++) {
                JsonArray spec = specCases.get(i).getAsJsonArray();
                ChatMessage question = ChatMessage.user(spec.get(0).getAsString(), spec.get(1).getAsBoolean() ? 1 : 0);
                assertEquals(cases.get(i).getAsJsonObject().get("prompt").getAsString(),
                        ConversationTemplate.VICUNA_V1.render(List.of(question)), fixture + " case " + i);
                checked++;
            }
        }
        assertEquals(6, checked);
    }

    @Test
    void rendersMultiTurnLikeLlavaSeparatorStyleTwo() {
        String prompt = ConversationTemplate.VICUNA_V1.render(List.of(
                ChatMessage.user("What is this?", 1),
                ChatMessage.assistant("A red circle."),
                ChatMessage.user("Where is it?"),
                ChatMessage.assistant("[0.1, 0.2, 0.3, 0.4]"),
                ChatMessage.user("And this one?", 1)));
        assertEquals(VICUNA + " USER: <image>\nWhat is this? ASSISTANT: A red circle.</s>USER: Where is it? "
                + "ASSISTANT: [0.1, 0.2, 0.3, 0.4]</s>USER: <image>\nAnd this one? ASSISTANT:", prompt);
    }

    @Test
    void imagePlaceholders() {
        assertEquals(VICUNA + " USER: <image>\n<image>\nCompare. ASSISTANT:",
                ConversationTemplate.VICUNA_V1.render(List.of(ChatMessage.user("Compare.", 2))));
        assertEquals(VICUNA + " USER: Left <image> right <image> ASSISTANT:",
                ConversationTemplate.VICUNA_V1.render(List.of(ChatMessage.user("Left <image> right <image>", 2))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConversationTemplate.VICUNA_V1.render(List.of(ChatMessage.user("Only <image>", 2))));
        assertTrue(e.getMessage().contains("1 <image> placeholders but 2 images"), e.getMessage());
    }

    @Test
    void llavaV1HasTheHumanSystemPrompt() {
        assertEquals("A chat between a curious human and an artificial intelligence assistant. The assistant gives "
                + "helpful, detailed, and polite answers to the human's questions. USER: Hi ASSISTANT:",
                ConversationTemplate.LLAVA_V1.render(List.of(ChatMessage.user("Hi"))));
    }

    @Test
    void aSystemMessageReplacesTheTemplatesSystemPrompt() {
        assertEquals("You count shapes. USER: <image>\nHow many? ASSISTANT: Two.</s>USER: Sure? ASSISTANT:",
                ConversationTemplate.VICUNA_V1.render(List.of(ChatMessage.system("You count shapes."),
                        ChatMessage.user("How many?", 1), ChatMessage.assistant("Two."), ChatMessage.user("Sure?"))));
        IllegalArgumentException later = assertThrows(IllegalArgumentException.class,
                () -> ConversationTemplate.VICUNA_V1.render(List.of(ChatMessage.user("a"), ChatMessage.system("b"),
                        ChatMessage.user("c"))));
        assertEquals("message 1 is a system message: only the first message may be one", later.getMessage());
        IllegalArgumentException alone = assertThrows(IllegalArgumentException.class,
                () -> ConversationTemplate.VICUNA_V1.render(List.of(ChatMessage.system("b"))));
        assertEquals("a conversation needs at least one user message", alone.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage(ChatMessage.Role.SYSTEM, "x", 1));
    }

    @Test
    void byName() {
        assertSame(ConversationTemplate.VICUNA_V1, ConversationTemplate.byName("vicuna_v1"));
        assertSame(ConversationTemplate.VICUNA_V1, ConversationTemplate.byName("v1"));
        assertSame(ConversationTemplate.LLAVA_V1, ConversationTemplate.byName("LLaVA_v1"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConversationTemplate.byName("llava_v0"));
        assertTrue(e.getMessage().contains("llava_v0"), e.getMessage());
    }

    @Test
    void rejectsConversationsThatDoNotAlternateOrDoNotEndWithTheUser() {
        assertThrows(IllegalArgumentException.class, () -> ConversationTemplate.VICUNA_V1.render(List.of()));
        assertThrows(IllegalArgumentException.class, () -> ConversationTemplate.VICUNA_V1.render(
                List.of(ChatMessage.user("a"), ChatMessage.assistant("b"))));
        assertThrows(IllegalArgumentException.class, () -> ConversationTemplate.VICUNA_V1.render(
                List.of(ChatMessage.user("a"), ChatMessage.user("b"), ChatMessage.user("c"))));
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage(ChatMessage.Role.ASSISTANT, "x", 1));
    }
}
