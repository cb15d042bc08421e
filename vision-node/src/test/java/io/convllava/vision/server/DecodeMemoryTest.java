package io.convllava.vision.server;

import com.google.protobuf.ByteString;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import io.convllava.vision.image.ImagePreprocessor;
import io.convllava.vision.image.InvalidImageException;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Concurrent decodes are bounded by memory, not only by threads: eight preparation threads, eight large images at
 * once, and a budget that holds two of them: every image is prepared, never more than the budget is reserved at
 * once; an image larger than the whole budget is refused before it is decoded.
 */
class DecodeMemoryTest {
    private static final int SIDE = 1500;

    @Test
    void eightLargeImagesOnEightThreadsStayWithinTheBudget() throws Exception {
        ImagePreprocessor preprocessor = ImagePreprocessor.forModel(
                ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null));
        long each = DecodeMemory.estimate(SIDE, SIDE, preprocessor.padsToSquare(), preprocessor.resolution());
        DecodeMemory memory = new DecodeMemory(2 * each + each / 2);
        ByteString png = onePng(SIDE, SIDE);
        try (ImagePreparation preparation = new ImagePreparation(preprocessor, 8, memory)) {
            List<CompletableFuture<PreparedImage>> images = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                images.add(preparation.submit(i + 1, png));
            }
            for (CompletableFuture<PreparedImage> image : images) {
                assertEquals(SIDE, image.get(60, TimeUnit.SECONDS).width());
            }
        }
        assertTrue(memory.peak() <= memory.budget(), "reserved at once: " + memory.peak() + " of " + memory.budget());
        assertEquals(2 * each, memory.peak(), "two images were prepared at once, never three");
    }

    @Test
    void anImageLargerThanTheBudgetIsRefusedBeforeItIsDecoded() throws Exception {
        ImagePreprocessor preprocessor = ImagePreprocessor.forModel(
                ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null));
        DecodeMemory memory = new DecodeMemory(10L << 20);
        try (ImagePreparation preparation = new ImagePreparation(preprocessor, 2, memory)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> preparation.submit(3, onePng(SIDE, SIDE)).get(60, TimeUnit.SECONDS));
            assertInstanceOf(InvalidImageException.class, e.getCause());
            assertTrue(e.getCause().getMessage().startsWith("image 3: decoding it takes about")
                    && e.getCause().getMessage().contains("more than this vision node's image budget of 10 MiB"),
                    e.getCause().getMessage());
        }
        assertEquals(0, memory.peak(), "nothing was reserved");
    }

    private static ByteString onePng(int width, int height) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB), "png", png);
        return ByteString.copyFrom(png.toByteArray());
    }
}
