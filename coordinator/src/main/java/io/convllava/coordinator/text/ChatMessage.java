package io.convllava.coordinator.text;

import java.util.Objects;

/**
 * One turn of a conversation, or the system prompt that replaces the template's ({@link Role#SYSTEM}, first only).
 *
 * @param images how many images come with this (user) message; each takes one {@code <image>} placeholder, which
 *               the template puts in front of the text unless the text already places them
 */
public record ChatMessage(Role role, String text, int images) {

    public enum Role { USER, ASSISTANT, SYSTEM }

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(text, "text");
        if (images < 0) {
            throw new IllegalArgumentException("images must be >= 0, got " + images);
        }
        if (images > 0 && role != Role.USER) {
            throw new IllegalArgumentException("only user messages can carry images, got " + images + " on " + role);
        }
    }

    public static ChatMessage user(String text) {
        return new ChatMessage(Role.USER, text, 0);
    }

    public static ChatMessage user(String text, int images) {
        return new ChatMessage(Role.USER, text, images);
    }

    public static ChatMessage assistant(String text) {
        return new ChatMessage(Role.ASSISTANT, text, 0);
    }

    public static ChatMessage system(String text) {
        return new ChatMessage(Role.SYSTEM, text, 0);
    }
}
