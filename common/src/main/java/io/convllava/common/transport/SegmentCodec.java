package io.convllava.common.transport;

import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.common.transport.TensorCodec;
import io.convllava.proto.v1.Segment;
import io.convllava.proto.v1.Segments;
import io.convllava.proto.v1.TokenIds;

import java.util.ArrayList;
import java.util.List;

/** The first stage's input, {@link PromptSegment}s, to and from the wire {@link Segments}. */
public final class SegmentCodec {
    private SegmentCodec() {
    }

    public static Segments encode(List<PromptSegment> segments) {
        Segments.Builder out = Segments.newBuilder();
        for (PromptSegment segment : segments) {
            if (segment instanceof PromptSegment.Tokens tokens) {
                TokenIds.Builder ids = TokenIds.newBuilder();
                for (int id : tokens.ids()) {
                    ids.addIds(id);
                }
                out.addSegments(Segment.newBuilder().setTokenIds(ids));
            } else {
                HostTensor embeddings = ((PromptSegment.Embeddings) segment).embeddings();
                out.addSegments(Segment.newBuilder().setEmbeddings(TensorCodec.encode(embeddings)));
            }
        }
        return out.build();
    }

    /**
     * Decodes and validates: token ids in [0, vocabSize), embeddings [N, hiddenSize], at least one position.
     *
     * @throws IllegalArgumentException naming the segment at fault
     */
    public static List<PromptSegment> decode(Segments segments, int vocabSize, int hiddenSize) {
        List<PromptSegment> out = new ArrayList<>(segments.getSegmentsCount());
        long positions = 0;
        for (int i = 0; i < segments.getSegmentsCount(); i++) {
            Segment segment = segments.getSegments(i);
            String field = "ForwardRequest.segments[" + i + "]";
            switch (segment.getKindCase()) {
                case TOKEN_IDS -> {
                    int[] ids = new int[segment.getTokenIds().getIdsCount()];
                    for (int j = 0; j < ids.length; j++) {
                        ids[j] = segment.getTokenIds().getIds(j);
                        if (ids[j] < 0 || ids[j] >= vocabSize) {
                            throw new IllegalArgumentException(field + ".token_ids[" + j + "]: token id " + ids[j]
                                    + " is outside the vocabulary [0, " + vocabSize + ")");
                        }
                    }
                    out.add(new PromptSegment.Tokens(ids));
                }
                case EMBEDDINGS -> out.add(new PromptSegment.Embeddings(
                        TensorCodec.decode(segment.getEmbeddings(), field + ".embeddings", -1, hiddenSize)));
                default -> throw new IllegalArgumentException(field + " has neither token_ids nor embeddings");
            }
            positions += out.get(i).length();
        }
        if (positions == 0) {
            throw new IllegalArgumentException("ForwardRequest.segments: no positions to run");
        }
        return out;
    }
}
