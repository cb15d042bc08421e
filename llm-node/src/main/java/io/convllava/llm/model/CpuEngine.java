package io.convllava.llm.model;

import io.convllava.common.config.LlmConfig;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.llm.cpu.CpuDecoder;

/** A shard computed by {@link CpuDecoder}: 16-bit resident weights, float32 arithmetic in Java. */
final class CpuEngine implements ShardEngine {
    private final LlmConfig config;
    private final CpuDecoder decoder;
    private final boolean last;

    CpuEngine(LlmConfig config, CpuDecoder decoder, boolean last) {
        this.config = config;
        this.decoder = decoder;
        this.last = last;
    }

    @Override
    public Session newSession() {
        return new CpuSession(decoder.newSession());
    }

    @Override
    public ShardOutput forward(Session session, ShardInput input) {
        int rows = input.length();
        int hidden = config.hiddenSize();
        float[] x = rows(input, rows, hidden);
        decoder.forward(((CpuSession) session).state, x, rows);
        if (last) {
            return new ShardOutput(null, HostTensor.of(decoder.logits(x, rows - 1), config.vocabSize()));
        }
        return new ShardOutput(HostTensor.of(x, rows, hidden), null);
    }

    /** The input as float32 rows [rows, H]: embedded tokens and image embeddings in order, or hidden states. */
    private float[] rows(ShardInput input, int rows, int hidden) {
        if (input instanceof ShardInput.Hidden h) {
            return h.hidden().data().clone();
        }
        float[] x = new float[rows * hidden];
        int row = 0;
        for (PromptSegment segment : ((ShardInput.Segments) input).segments()) {
            if (segment instanceof PromptSegment.Tokens tokens) {
                for (int id : tokens.ids()) {
                    decoder.embed(id, x, row++ * hidden);
                }
            } else {
                HostTensor e = ((PromptSegment.Embeddings) segment).embeddings();
                System.arraycopy(e.data(), 0, x, row * hidden, (int) e.dim(0) * hidden);
                row += (int) e.dim(0);
            }
        }
        return x;
    }

    @Override
    public void close() {
        decoder.close();
    }

    /** A session's cache: plain Java memory, released with the object. */
    private record CpuSession(CpuDecoder.Session state) implements Session {
        @Override
        public int length() {
            return state.length();
        }

        @Override
        public long bytes() {
            return state.bytes();
        }

        @Override
        public void close() {
        }
    }
}
