package io.convllava.coordinator.server;

import io.convllava.common.tensor.HostTensor;
import io.convllava.common.transport.TensorCodec;
import io.convllava.coordinator.generate.FinishReason;
import io.convllava.coordinator.generate.GenerationResult;
import io.convllava.coordinator.generate.Timings;
import io.convllava.coordinator.grounding.BoundingBox;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.Usage;

import java.util.ArrayList;
import java.util.List;

/** Converts a {@link GenerationResult} to the public {@link Final} event and back (for clients). */
public final class FinalMessages {
    private FinalMessages() {
    }

    /**
     * @param queueMs      time spent waiting for admission
     * @param firstTokenMs from receipt of the request to the first generated token
     * @param totalMs      from receipt of the request to now
     */
    public static Final toFinal(GenerationResult r, double queueMs, double firstTokenMs, double totalMs) {
        Final.Builder f = Final.newBuilder()
                .setFinishReason(Final.FinishReason.valueOf(r.finishReason().name()))
                .setText(r.text())
                .setUsage(Usage.newBuilder()
                        .setPromptTokens(r.promptTokens() + r.imageTokens())
                        .setImageTokens(r.imageTokens())
                        .setCompletionTokens(r.tokens().length)
                        .setCachedPromptTokens(r.cachedTokens()))
                .setTimings(io.convllava.proto.v1.Timings.newBuilder()
                        .setQueueMs(queueMs)
                        .setEncodeMs(r.timings().encodeMs())
                        .setImageMs(r.timings().imageMs())
                        .setPrefillMs(r.timings().prefillMs())
                        .setFirstTokenMs(firstTokenMs)
                        .setTotalMs(totalMs));
        for (int id : r.inputIds()) {
            f.addInputIds(id);
        }
        for (BoundingBox b : r.boxes()) {
            io.convllava.proto.v1.BoundingBox.Builder box = io.convllava.proto.v1.BoundingBox.newBuilder()
                    .setX1((float) b.x1()).setY1((float) b.y1()).setX2((float) b.x2()).setY2((float) b.y2())
                    .setImageIndex(b.imageIndex());
            for (double v : b.normalized()) {
                box.addNormalized((float) v);
            }
            f.addBoxes(box);
        }
        if (r.prefillLogits() != null) {
            f.setPrefillLogits(TensorCodec.encode(HostTensor.of(r.prefillLogits(), r.prefillLogits().length)));
        }
        return f.build();
    }

    /** The result a client reconstructs from the streamed token ids and the Final event (no image tensors). */
    public static GenerationResult fromFinal(Final f, int[] tokens) {
        List<BoundingBox> boxes = new ArrayList<>();
        for (io.convllava.proto.v1.BoundingBox b : f.getBoxesList()) {
            double[] normalized = new double[b.getNormalizedCount()];
            for (int i = 0; i < normalized.length; i++) {
                normalized[i] = b.getNormalized(i);
            }
            boxes.add(new BoundingBox(b.getX1(), b.getY1(), b.getX2(), b.getY2(), normalized, b.getImageIndex()));
        }
        float[] logits = f.hasPrefillLogits() ? TensorCodec.decode(f.getPrefillLogits(), "Final.prefill_logits").data()
                : null;
        io.convllava.proto.v1.Timings t = f.getTimings();
        Usage u = f.getUsage();
        return new GenerationResult(f.getInputIdsList().stream().mapToInt(Integer::intValue).toArray(), tokens,
                f.getText(), FinishReason.valueOf(f.getFinishReason().name()),
                u.getPromptTokens() - u.getImageTokens(), u.getImageTokens(), logits, List.of(), boxes,
                new Timings(t.getEncodeMs(), t.getImageMs(), t.getPrefillMs(), t.getFirstTokenMs(), t.getTotalMs()),
                u.getCachedPromptTokens());
    }
}
