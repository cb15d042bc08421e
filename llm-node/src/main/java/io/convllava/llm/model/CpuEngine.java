package io.convllava.llm.model;

import io.convllava.common.config.LlmConfig;
import io.convllava.common.tensor.HostTensor;
import io.convllava.common.tensor.PromptSegment;
import io.convllava.llm.cpu.CpuDecoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
        float[] x = new float[rows * hidden];
        write(input, x, 0);
        decoder.forward(((CpuSession) session).state, x, rows);
        if (last) {
            return new ShardOutput(null, LogitsRow.of(decoder.logits(x, rows - 1)));
        }
        return new ShardOutput(HostTensor.of(x, rows, hidden), null);
    }

    /** One decoder step over every part's rows (each at most {@link CpuDecoder#CHUNK}; longer ones run alone). */
    @Override
    public List<ShardOutput> forward(List<Part> parts) {
        if (parts.stream().anyMatch(p -> p.input().length() > CpuDecoder.CHUNK)) {
            return ShardEngine.super.forward(parts);
        }
        int hidden = config.hiddenSize();
        int total = parts.stream().mapToInt(p -> p.input().length()).sum();
        float[] x = new float[total * hidden];
        List<CpuDecoder.Slice> slices = new ArrayList<>(parts.size());
        int[] lastRows = new int[parts.size()];
        int offset = 0;
        for (int i = 0; i < parts.size(); i++) {
            Part part = parts.get(i);
            int rows = part.input().length();
            write(part.input(), x, offset);
            slices.add(new CpuDecoder.Slice(((CpuSession) part.session()).state, offset, rows));
            offset += rows;
            lastRows[i] = offset - 1;
        }
        decoder.step(slices, x, total);
        List<ShardOutput> outputs = new ArrayList<>(parts.size());
        if (last) {
            float[] logits = decoder.logits(x, lastRows); // [parts, vocab], until the next step
            int vocab = config.vocabSize();
            for (int i = 0; i < parts.size(); i++) {
                outputs.add(new ShardOutput(null, new LogitsRow(logits, i * vocab, vocab)));
            }
            return outputs;
        }
        for (CpuDecoder.Slice s : slices) {
            float[] rows = Arrays.copyOfRange(x, s.offset() * hidden, (s.offset() + s.rows()) * hidden);
            outputs.add(new ShardOutput(HostTensor.of(rows, s.rows(), hidden), null));
        }
        return outputs;
    }

    /** The input as float32 rows in x from row {@code row}: embedded tokens and image embeddings, or hidden states. */
    private void write(ShardInput input, float[] x, int row) {
        int hidden = config.hiddenSize();
        if (input instanceof ShardInput.Hidden h) {
            System.arraycopy(h.hidden().data(), 0, x, row * hidden, input.length() * hidden);
            return;
        }
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
    }

    @Override
    public long freeKvBytes() {
        return decoder.freeKvBytes();
    }

    @Override
    public void close() {
        decoder.close();
    }

    /** A session's cache: blocks of Java memory, given back to the decoder's pool when it closes. */
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
        public void truncate(int length) {
            state.truncate(length);
        }

        @Override
        public Session copy(int length) {
            return new CpuSession(state.copy(length));
        }

        @Override
        public void close() {
            state.close();
        }
    }
}
