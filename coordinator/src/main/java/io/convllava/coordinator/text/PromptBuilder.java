package io.convllava.coordinator.text;

import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Prompt text to decoder input: LLaVA's {@code tokenizer_image_token} ({@code llava/mm_utils.py}), splicing image
 * embeddings in place of the placeholders, and the context-length check.
 */
public final class PromptBuilder {

    /** LLaVA's {@code IMAGE_TOKEN_INDEX}: where an image's embeddings go. */
    public static final int IMAGE_TOKEN = -200;

    private final Tokenizer tokenizer;

    public PromptBuilder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Splits {@code prompt} on {@code <image>}, tokenizes every chunk on its own with BOS (so each gets its own dummy
     * prefix), keeps the first chunk's BOS only, and puts {@link #IMAGE_TOKEN} between chunks.
     */
    public int[] tokenizeWithImages(String prompt) {
        List<int[]> chunks = new ArrayList<>();
        for (String chunk : prompt.split(Pattern.quote(ConversationTemplate.IMAGE_PLACEHOLDER), -1)) {
            chunks.add(tokenizer.encode(chunk, true));
        }
        IntList ids = new IntList(prompt.length() / 3 + 8);
        int offset = 0;
        int[] first = chunks.get(0);
        if (first.length > 0 && first[0] == tokenizer.bosId()) {
            offset = 1;
            ids.add(first[0]);
        }
        for (int i = 0; i < chunks.size(); i++) {
            ids.addAll(chunks.get(i), offset);
            if (i < chunks.size() - 1) {
                ids.add(IMAGE_TOKEN); // LLaVA inserts offset + 1 copies and then drops `offset` of them
            }
        }
        return ids.toArray();
    }

    /**
     * The decoder input: runs of text ids, and each image's embeddings {@code [tokens, hidden]} where its
     * {@link #IMAGE_TOKEN} was, in order.
     */
    public static List<PromptSegment> splice(int[] ids, List<HostTensor> imageEmbeddings) {
        int images = countImages(ids);
        if (images != imageEmbeddings.size()) {
            throw new IllegalArgumentException("prompt has " + images + " image placeholders but "
                    + imageEmbeddings.size() + " image embeddings were given");
        }
        List<PromptSegment> segments = new ArrayList<>();
        IntList text = new IntList(ids.length);
        int image = 0;
        for (int id : ids) {
            if (id != IMAGE_TOKEN) {
                text.add(id);
                continue;
            }
            if (text.size() > 0) {
                segments.add(new PromptSegment.Tokens(text.toArray()));
                text = new IntList(ids.length);
            }
            HostTensor e = imageEmbeddings.get(image);
            if (e.rank() != 2) {
                throw new IllegalArgumentException("image embeddings " + image + " must be [tokens, hidden], got "
                        + e);
            }
            segments.add(new PromptSegment.Embeddings(e));
            image++;
        }
        if (text.size() > 0) {
            segments.add(new PromptSegment.Tokens(text.toArray()));
        }
        return segments;
    }

    /**
     * Throws {@link PromptTooLongException} if the spliced sequence ({@code ids} minus placeholders plus
     * {@code tokensPerImage} per image) is longer than {@code maxLength}.
     */
    public static void checkLength(int[] ids, int tokensPerImage, int maxLength) {
        int images = countImages(ids);
        int textTokens = ids.length - images;
        int imageTokens = images * tokensPerImage;
        int spliced = textTokens + imageTokens;
        if (spliced > maxLength) {
            throw new PromptTooLongException(spliced, textTokens, images, imageTokens, maxLength);
        }
    }

    public static int countImages(int[] ids) {
        int n = 0;
        for (int id : ids) {
            if (id == IMAGE_TOKEN) {
                n++;
            }
        }
        return n;
    }
}
