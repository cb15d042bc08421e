package io.convllava.cli.eval;

import io.convllava.cli.local.LocalEngine;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.TokenListener;
import io.convllava.coordinator.text.ConversationTemplate;
import io.convllava.vision.image.InvalidImageException;
import io.convllava.vision.model.EncodeMemoryLimitException;


/**
 * Answers with the model loaded in this process ({@link LocalEngine}, as {@code generate --model} does); a request
 * the engine refuses as invalid (an unreadable image, one too large to encode, a prompt past the context) is that
 * question's failure.
 */
public final class LocalAnswerer implements Answerer {
    private final LocalEngine engine;
    private final String model;
    private final ConversationTemplate template;
    private final int maxNewTokens;

    /** Takes ownership of {@code engine}: closing this closes it. */
    public LocalAnswerer(LocalEngine engine, String model, String templateName, int maxNewTokens) {
        this.engine = engine;
        this.model = model;
        this.template = ConversationTemplate.byName(templateName);
        this.maxNewTokens = maxNewTokens;
    }

    @Override
    public String answer(EvalQuestion question, byte[] image) {
        GenerationRequest request = question.request(image, template, maxNewTokens);
        try {
            return engine.generator().generate(request, TokenListener.NONE).text();
        } catch (IllegalArgumentException | InvalidImageException | EncodeMemoryLimitException e) {
            throw new QuestionRefusedException(e.getMessage(), e);
        }
    }

    @Override
    public String describe() {
        return model;
    }

    @Override
    public void close() {
        engine.close();
    }
}
