package io.convllava.coordinator.server;

import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ServedModelTest {
    private final ServedModel model =
            ServedModel.load("tiny-convllava", ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null));

    @Test
    void promptsAreLimitedToTheTrainedLengthUnlessRaisedUpToTheDecodersPositions() {
        assertEquals(model.llm().tokenizerModelMaxLength(), model.maxPromptTokens());
        int positions = model.llm().maxPositionEmbeddings();
        assertEquals(positions, model.withMaxPromptTokens(positions).maxPromptTokens());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.withMaxPromptTokens(positions + 1));
        assertEquals("a prompt limit of " + (positions + 1) + " tokens is outside [1, " + positions + "] (the model's"
                + " max_position_embeddings)", e.getMessage());
    }
}
