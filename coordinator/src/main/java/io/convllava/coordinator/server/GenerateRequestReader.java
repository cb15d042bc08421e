package io.convllava.coordinator.server;

import io.convllava.common.sampling.SamplingParams;
import io.convllava.common.transport.BearerTokens;
import io.convllava.common.transport.MessageLimits;
import io.convllava.common.transport.SamplingCodec;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.generate.RequestLimits;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.coordinator.text.ConversationTemplate;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import io.convllava.proto.v1.SamplingOptions;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Checks a public {@link GenerateRequest} and turns it into a {@link GenerationRequest}: INVALID_ARGUMENT with a
 * message naming the field for anything malformed or over the {@link RequestLimits} (the same the in-process path
 * applies), NOT_FOUND for an unknown model or an image hash that is not cached. The images of a request that was
 * answered are remembered in the {@link ImageCache} ({@link #remember}), so later requests can refer to them by hash;
 * bytes that no vision node could decode are never kept.
 */
public final class GenerateRequestReader {
    static final String DEFAULT_TEMPLATE = "vicuna_v1";

    private final String modelId;
    private final ImageCache images;
    private final RequestLimits limits;

    public GenerateRequestReader(String modelId, ImageCache images, RequestLimits limits) {
        this.modelId = modelId;
        this.images = images;
        this.limits = limits;
    }

    /** Keeps the images of an answered request for its caller ({@link BearerTokens#CALLER}) to refer to by hash. */
    public void remember(GenerationRequest answered) {
        for (ImageInput image : answered.images()) {
            if (image.bytes() != null) {
                images.put(BearerTokens.CALLER.get(), image.bytes());
            }
        }
    }

    public GenerationRequest read(GenerateRequest request) {
        if (request.hasModel() && !request.getModel().isEmpty() && !request.getModel().equals(modelId)) {
            throw Status.NOT_FOUND.withDescription("model '" + request.getModel() + "' is not served here; this cluster"
                    + " serves '" + modelId + "' (see ListModels)").asRuntimeException();
        }
        List<ChatMessage> messages = new ArrayList<>();
        List<ImageInput> inputs = new ArrayList<>();
        for (int i = 0; i < request.getMessagesCount(); i++) {
            Message m = request.getMessages(i);
            messages.add(message(m, i));
            for (int j = 0; j < m.getImagesCount(); j++) {
                inputs.add(ImageInput.ofBytes(image(m.getImages(j), "messages[" + i + "].images[" + j + "]")));
            }
        }
        try {
            return limits.check(new GenerationRequest(messages, inputs, template(request.getTemplate()),
                    sampling(request.hasSampling() ? request.getSampling() : SamplingOptions.getDefaultInstance()),
                    request.getMaxNewTokens(), request.getStopList(), request.getReturnPrefillLogits(), false));
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    /** Images go before the text unless the text places them with {@code <image>} (the template checks the count). */
    private static ChatMessage message(Message m, int index) {
        ChatMessage.Role role = switch (m.getRole()) {
            case USER -> ChatMessage.Role.USER;
            case ASSISTANT -> ChatMessage.Role.ASSISTANT;
            case SYSTEM -> ChatMessage.Role.SYSTEM;
            default -> throw invalid("messages[" + index + "].role must be USER, ASSISTANT or SYSTEM, got "
                    + m.getRole());
        };
        try {
            return new ChatMessage(role, m.getText(), m.getImagesCount());
        } catch (IllegalArgumentException e) {
            throw invalid("messages[" + index + "]: " + e.getMessage());
        }
    }

    /** The image's bytes; inline ones are checked against the size limit before they are copied or cached. */
    private byte[] image(Image image, String field) {
        switch (image.getSourceCase()) {
            case DATA -> {
                if (image.getData().isEmpty()) {
                    throw invalid(field + ".data is empty: send the image file's bytes (PNG, JPEG, ...)");
                }
                try {
                    MessageLimits.checkImage(field, image.getData().size());
                } catch (IllegalArgumentException e) {
                    throw invalid(e.getMessage());
                }
                return image.getData().toByteArray();
            }
            case SHA256 -> {
                String hash = image.getSha256();
                if (!ImageCache.isSha256(hash)) {
                    throw invalid(field + ".sha256 must be 64 hex digits (the SHA-256 of the image bytes), got '"
                            + hash + "'");
                }
                return images.get(BearerTokens.CALLER.get(), hash).orElseThrow(() -> Status.NOT_FOUND.withDescription(field + ".sha256 " + hash
                        + " is not cached here (never sent, or evicted): send the image bytes in data instead")
                        .asRuntimeException());
            }
            default -> throw invalid(field + " has neither data nor sha256: send the image bytes or the hash of an"
                    + " image sent earlier");
        }
    }

    private static ConversationTemplate template(String name) {
        String chosen = name.isEmpty() ? DEFAULT_TEMPLATE : name;
        try {
            return ConversationTemplate.byName(chosen);
        } catch (IllegalArgumentException e) {
            throw invalid("template '" + chosen + "' is unknown: use vicuna_v1 or llava_v1");
        }
    }

    /** Greedy when absent; a random seed when none is given. */
    private static SamplingParams sampling(SamplingOptions s) {
        try {
            return SamplingCodec.decode(s, ThreadLocalRandom.current().nextLong());
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
