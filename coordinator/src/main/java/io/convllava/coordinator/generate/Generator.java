package io.convllava.coordinator.generate;

import io.convllava.common.pipeline.DecoderPipeline;
import io.convllava.common.pipeline.PrefillOptions;
import io.convllava.common.pipeline.StepResult;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.coordinator.grounding.BoundingBox;
import io.convllava.coordinator.grounding.GroundingParser;
import io.convllava.coordinator.prefix.PrefixIndex;
import io.convllava.coordinator.prefix.PromptContent;
import io.convllava.coordinator.text.PromptBuilder;
import io.convllava.coordinator.text.Tokenizer;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The generation loop: render and tokenize the conversation, encode its images, splice them in, prefill, then
 * decode token by token until end-of-sequence, a stop string, max_new_tokens or the context length. Requests are
 * held to {@link RequestLimits#forContext the limits of the decoder's context} first. The full
 * token history stays here, so a session can be replayed elsewhere; the KV cache lives on the pipeline and is
 * released whatever happens.
 */
public final class Generator {
    private final Tokenizer tokenizer;
    private final PromptBuilder promptBuilder;
    private final ImageEncoder imageEncoder;
    private final DecoderPipeline pipeline;
    private final int maxPromptLength;
    private final int maxPositions;
    private final RequestLimits limits;
    private final PrefixIndex prefixes;
    private final Failover failover;

    /**
     * @param imageEncoder    null for a deployment without vision (requests with images are then refused)
     * @param maxPromptLength the spliced prompt limit ({@code tokenizer_model_max_length})
     * @param maxPositions    the decoder's context ({@code max_position_embeddings}): generation stops there
     */
    public Generator(Tokenizer tokenizer, ImageEncoder imageEncoder, DecoderPipeline pipeline, int maxPromptLength,
                     int maxPositions) {
        this(tokenizer, imageEncoder, pipeline, maxPromptLength, maxPositions, null);
    }

    /**
     * @param prefixes the caches {@code pipeline} keeps for this coordinator: a request continues from the longest
     *                 one it shares a prefix with, and keeps its own when it ends; null = keep nothing
     */
    public Generator(Tokenizer tokenizer, ImageEncoder imageEncoder, DecoderPipeline pipeline, int maxPromptLength,
                     int maxPositions, PrefixIndex prefixes) {
        this(tokenizer, imageEncoder, pipeline, maxPromptLength, maxPositions, prefixes, null);
    }

    /**
     * @param failover where the session goes when a call to {@code pipeline} fails ({@link PipelineSession}); null =
     *                 the failure fails the generation
     */
    public Generator(Tokenizer tokenizer, ImageEncoder imageEncoder, DecoderPipeline pipeline, int maxPromptLength,
                     int maxPositions, PrefixIndex prefixes, Failover failover) {
        this.failover = failover;
        if (prefixes != null && !pipeline.keepsPrefixes()) {
            throw new IllegalArgumentException(pipeline.getClass().getSimpleName() + " keeps no prefixes");
        }
        this.prefixes = prefixes;
        this.tokenizer = tokenizer;
        this.promptBuilder = new PromptBuilder(tokenizer);
        this.imageEncoder = imageEncoder;
        this.pipeline = pipeline;
        this.maxPromptLength = maxPromptLength;
        this.maxPositions = maxPositions;
        this.limits = RequestLimits.forContext(maxPositions);
    }

    /** Prompt ids with -200 per image, checked against the context limit (before any image is encoded). */
    public int[] promptIds(GenerationRequest request) {
        String prompt = request.template().render(request.messages());
        int[] ids = promptBuilder.tokenizeWithImages(prompt);
        int placeholders = PromptBuilder.countImages(ids);
        if (placeholders != request.images().size()) {
            throw new IllegalArgumentException("the conversation has " + placeholders + " <image> placeholder(s) but "
                    + request.images().size() + " image(s) were sent: send one image per placeholder");
        }
        if (placeholders > 0 && imageEncoder == null) {
            throw new IllegalArgumentException("this deployment has no vision tower: send text-only requests");
        }
        PromptBuilder.checkLength(ids, placeholders > 0 ? imageEncoder.tokensPerImage() : 0, maxPromptLength);
        return ids;
    }

    /** @throws IllegalArgumentException naming the field at fault when the request breaks {@link RequestLimits} */
    public GenerationResult generate(GenerationRequest unchecked, TokenListener listener) {
        long start = System.nanoTime();
        GenerationRequest request = limits.check(unchecked);
        int[] ids = promptIds(request);
        long imagesStart = System.nanoTime();
        List<EncodedImage> images = request.images().isEmpty() ? List.of()
                : imageEncoder.encode(request.images(), request.keepImageIntermediates());
        long encoded = System.nanoTime();
        List<HostTensor> embeddings = new ArrayList<>();
        int imageTokens = 0;
        for (EncodedImage image : images) {
            embeddings.add(image.embeddings());
            imageTokens += (int) image.embeddings().dim(0);
        }
        List<PromptSegment> segments = PromptBuilder.splice(ids, embeddings);
        int promptLength = segments.stream().mapToInt(PromptSegment::length).sum();

        long[] content = prefixes == null ? null : PromptContent.of(ids, digests(request.images()),
                embeddings.stream().map(e -> (int) e.dim(0)).toList());
        Decoding decoding = new Decoding(request, listener, promptLength);
        float[] prefillLogits = null;
        long prefilled;
        boolean completed = false;
        PipelineSession session = new PipelineSession(pipeline, failover, segments, request.sampling(),
                PrefillOptions.reserve(Math.min(maxPositions, promptLength + request.maxNewTokens())),
                request.maxNewTokens());
        try {
            PrefixIndex.Match match = content == null ? null : prefixes.match(content);
            StepResult step = session.prefill(match, request.returnPrefillLogits());
            if (match != null && session.reusedPositions() == 0) {
                prefixes.remove(match.key()); // the stages no longer hold it
            }
            prefilled = System.nanoTime();
            prefillLogits = step.logits();
            session.decodeWhile(step.token(), decoding::accept);
            completed = true;
        } finally {
            if (completed && content != null) {
                long[] kept = PromptContent.append(content, decoding.tokens, session.fedCount());
                String key = PrefixIndex.keyOf(kept);
                if (session.release(key)) {
                    prefixes.add(key, kept, session.chunks());
                }
            } else {
                session.release(null);
            }
        }
        long end = System.nanoTime();
        String text = decoding.output.text().strip();
        List<BoundingBox> boxes = new ArrayList<>();
        if (!images.isEmpty()) {
            EncodedImage first = images.get(0);
            GroundingParser.parse(text, first.width(), first.height(), 0).ifPresent(boxes::add);
        }
        long firstToken = decoding.firstToken;
        double imageMs = images.isEmpty() ? 0 : ms(encoded - imagesStart);
        Timings timings = new Timings(ms(encoded - start), imageMs, ms(prefilled - encoded),
                ms((firstToken == 0 ? end : firstToken) - start), ms(end - start));
        return new GenerationResult(ids, Arrays.copyOf(decoding.tokens, decoding.generated), text, decoding.finish,
                ids.length - images.size(), imageTokens, prefillLogits, images, boxes, timings,
                session.reusedPositions());
    }

    /**
     * The sampled tokens of one generation as they come: each is streamed unless it ends the generation
     * (end-of-sequence), and says whether generation goes on (a stop string, max_new_tokens or the context end it
     * reached). Runs on whichever thread received the token; one token at a time.
     */
    private final class Decoding {
        final GenerationRequest request;
        final TokenListener listener;
        final int promptLength;
        final StopStringFilter output;
        final int[] tokens;
        int generated;
        long firstToken;
        FinishReason finish = FinishReason.LENGTH;

        Decoding(GenerationRequest request, TokenListener listener, int promptLength) {
            this.request = request;
            this.listener = listener;
            this.promptLength = promptLength;
            this.output = new StopStringFilter(tokenizer, request.stopStrings());
            this.tokens = new int[request.maxNewTokens()];
        }

        /** Takes the next sampled token; whether it is fed back to sample another. */
        boolean accept(int token) {
            if (token == tokenizer.eosId()) {
                finish = FinishReason.STOP;
                return false;
            }
            tokens[generated++] = token;
            if (firstToken == 0) {
                firstToken = System.nanoTime();
            }
            listener.onToken(token, output.push(token));
            if (output.stopped()) {
                finish = FinishReason.STOP_STRING;
                return false;
            }
            return generated < request.maxNewTokens() && promptLength + generated < maxPositions;
        }
    }

    /** SHA-256 of each image's file bytes (or of its pixels): what identifies it in a kept cache. */
    private static List<byte[]> digests(List<ImageInput> images) {
        List<byte[]> digests = new ArrayList<>(images.size());
        for (ImageInput image : images) {
            try {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                if (image.bytes() != null) {
                    sha.update(image.bytes());
                } else {
                    ByteBuffer pixels = ByteBuffer.allocate(image.pixels().data().length * Float.BYTES);
                    pixels.asFloatBuffer().put(image.pixels().data());
                    sha.update(pixels);
                }
                digests.add(sha.digest());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is missing from this JVM", e);
            }
        }
        return digests;
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
