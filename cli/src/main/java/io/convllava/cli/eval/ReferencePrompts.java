package io.convllava.cli.eval;

import java.util.Map;

/**
 * The prompts of the reference evaluations (LLaVA-1.5's {@code model_vqa_loader} question files, its MMBench script and
 * ConvLLaVA's {@code evaluate_grounding.py}). The conversation template adds {@code <image>\n} before them.
 */
public final class ReferencePrompts {
    /** Appended to POPE, MME, TextVQA (the variant without OCR tokens) and DocVQA questions. */
    public static final String SHORT_ANSWER = "Answer the question using a single word or phrase.";
    /** Appended to MMBench questions after their options. */
    public static final String OPTION_LETTER = "Answer with the option's letter from the given choices directly.";
    /** MME's own instruction, which LLaVA's MME questions replace with {@link #SHORT_ANSWER}. */
    public static final String YES_OR_NO = "Please answer yes or no.";
    /** RefCOCO: the referring expression follows, then a period. */
    public static final String GROUNDING = "Please provide the bounding box coordinate of the region this sentence"
            + " describes: ";

    private ReferencePrompts() {
    }

    /** POPE, TextVQA, DocVQA: "question\nAnswer the question using a single word or phrase." */
    public static String shortAnswer(String question, PromptStyle style) {
        return style == PromptStyle.BARE ? question : question + "\n" + SHORT_ANSWER;
    }

    /** MME: the question without "Please answer yes or no.", then the short-answer instruction. */
    public static String mme(String question, PromptStyle style) {
        if (style == PromptStyle.BARE) {
            return question;
        }
        return question.replace(YES_OR_NO, "").strip() + "\n" + SHORT_ANSWER;
    }

    /**
     * MMBench: "[hint\n]question\nA. option\nB. option...\nAnswer with the option's letter from the given choices
     * directly."; bare: "[hint\n]question".
     */
    public static String multipleChoice(String hint, String question, Map<String, String> options, PromptStyle style) {
        StringBuilder prompt = new StringBuilder();
        if (hint != null) {
            prompt.append(hint).append('\n');
        }
        prompt.append(question);
        if (style == PromptStyle.BARE) {
            return prompt.toString();
        }
        options.forEach((letter, text) -> prompt.append('\n').append(letter).append(". ").append(text));
        return prompt.append('\n').append(OPTION_LETTER).toString();
    }

    /** RefCOCO, in either style (the grounding prompt is the question): "...describes: the red circle." */
    public static String grounding(String sentence) {
        return GROUNDING + sentence + ".";
    }
}
