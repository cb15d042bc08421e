package io.convllava.cli;

import com.google.protobuf.ByteString;
import io.convllava.common.client.CoordinatorFailover;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.generate.GenerationResult;
import io.convllava.coordinator.generate.ImageInput;
import io.convllava.coordinator.server.FinalMessages;
import io.convllava.coordinator.text.ChatMessage;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import io.convllava.proto.v1.SamplingOptions;
import io.convllava.proto.v1.Delta;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code convllava generate --target host:port[,host:port...]}: the same request as the in-process command, sent to a
 * cluster's coordinator (the next one when it dies, {@link CoordinatorFailover}) and streamed back; prints exactly
 * what the in-process command prints.
 */
public final class RemoteGenerate {
    private final GenerateCommand flags;

    RemoteGenerate(GenerateCommand flags) {
        this.flags = flags;
    }

    int run(PrintStream out) throws IOException {
        if (flags.pixelsNpy != null) {
            throw new UsageException("--pixels-npy works in process only; send --image to a cluster");
        }
        if (flags.dumpDir != null) {
            throw new UsageException("--dump-dir works in process only (a cluster does not return the intermediates)");
        }
        GenerateRequest request = toProto(flags.request(), flags.template);
        if (flags.requestId != null) {
            request = request.toBuilder().setRequestId(flags.requestId).build();
        }
        try (CoordinatorChannels channels = new CoordinatorChannels(flags.target, flags.tlsCa,
                flags.tokenFile)) {
            List<Integer> tokens = new ArrayList<>();
            CoordinatorFailover coordinators = new CoordinatorFailover(channels.calls(),
                    Duration.ofSeconds(flags.timeoutSeconds), why -> System.err.println("\n" + why + "; retrying on"
                    + " the next coordinator"));
            Final last = coordinators.generate(request, delta -> {
                tokens.addAll(delta.getTokenIdsList());
                if (!flags.json) {
                    out.print(delta.getText());
                    out.flush();
                }
            });
            GenerationResult result = FinalMessages.fromFinal(last, tokens.stream().mapToInt(Integer::intValue).toArray());
            flags.print(result, out);
        } catch (StatusRuntimeException e) {
            throw new CommandFailedException(RemoteCallErrors.describe(e, "the coordinator", flags.target));
        }
        return 0;
    }

    /** Sends one Generate call, hands every text delta to {@code onDelta} and returns the Final event. */
    public static Final stream(Channel channel, GenerateRequest request, Duration timeout, Consumer<Delta> onDelta) {
        Iterator<GenerateResponse> stream = ConvLlavaGrpc.newBlockingStub(channel)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .generate(request);
        Final last = null;
        while (stream.hasNext()) {
            GenerateResponse event = stream.next();
            if (event.hasDelta()) {
                onDelta.accept(event.getDelta());
            } else if (event.hasFinal()) {
                last = event.getFinal();
            }
        }
        if (last == null) {
            throw missingFinal(channel.authority(), request.getRequestId());
        }
        return last;
    }

    /** The failure of a Generate stream that ended without its Final event. */
    public static IllegalStateException missingFinal(String target, String requestId) {
        return new IllegalStateException("the coordinator at " + target + " ended the stream"
                + (requestId.isEmpty() ? "" : " of " + requestId) + " without a Final event");
    }

    /** The public request for an in-process one; the images are distributed over the messages that carry them. */
    public static GenerateRequest toProto(GenerationRequest r, String template) {
        GenerateRequest.Builder b = GenerateRequest.newBuilder()
                .setTemplate(template)
                .setSampling(SamplingOptions.newBuilder()
                        .setTemperature(r.sampling().temperature())
                        .setTopP(r.sampling().topP())
                        .setTopK(r.sampling().topK())
                        .setSeed(r.sampling().seed()))
                .setMaxNewTokens(r.maxNewTokens())
                .addAllStop(r.stopStrings())
                .setReturnPrefillLogits(r.returnPrefillLogits());
        int nextImage = 0;
        for (ChatMessage m : r.messages()) {
            Message.Builder message = Message.newBuilder()
                    .setRole(Message.Role.valueOf(m.role().name()))
                    .setText(m.text());
            for (int i = 0; i < m.images(); i++) {
                ImageInput image = r.images().get(nextImage++);
                message.addImages(Image.newBuilder().setData(ByteString.copyFrom(image.bytes())));
            }
            b.addMessages(message);
        }
        return b.build();
    }
}
