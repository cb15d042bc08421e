package io.convllava.coordinator.text;

import io.convllava.coordinator.text.SentencePieceModel.Piece;
import io.convllava.coordinator.text.SentencePieceModel.PieceType;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Pure-Java tokenizer over a SentencePiece BPE {@code tokenizer.model} (what ConvLLaVA ships), giving the same ids as
 * HF {@code tokenizers} on the equivalent LLaMA {@code tokenizer.json}: added tokens are cut out first, then every
 * remaining stretch is normalized on its own (dummy {@code ▁} prefix, spaces to {@code ▁}) and BPE-encoded.
 * Decoding mirrors the LLaMA decoder chain: {@code ▁} to space, byte pieces joined as UTF-8 (invalid runs become one
 * U+FFFD per byte), one leading space stripped. Immutable, thread-safe.
 */
public final class SentencePieceTokenizer implements Tokenizer {

    public static final String MODEL_FILE = "tokenizer.model";
    private static final char SPACE_MARK = '\u2581';

    private final SentencePieceModel model;
    private final SentencePieceBpe bpe;
    private final AddedTokenSplitter splitter;
    private final String[] addedTokenText; // by id, for added tokens beyond the model's pieces
    private final boolean[] skipOnDecode;  // by id
    private final SpecialTokenPolicy special;

    /** Reads {@code modelFile}; {@code config} supplies the added tokens and BOS/EOS policy. */
    public static SentencePieceTokenizer load(Path modelFile, SpecialTokensConfig config) {
        return new SentencePieceTokenizer(SentencePieceModel.read(modelFile), config, modelFile);
    }

    private SentencePieceTokenizer(SentencePieceModel model, SpecialTokensConfig config, Path source) {
        this.model = model;
        this.bpe = new SentencePieceBpe(model);
        int pieces = model.pieces().size();
        List<AddedTokenSplitter.Entry> entries = new ArrayList<>();
        int vocab = pieces;
        int[] addedIds = new int[config.addedTokens().size()];
        for (int i = 0; i < addedIds.length; i++) {
            SpecialTokensConfig.AddedToken t = config.addedTokens().get(i);
            int id = t.id() >= 0 ? t.id() : bpe.pieceId(t.content());
            if (id < 0) {
                throw new TokenizerLoadException("special token \"" + t.content() + "\" from "
                        + SpecialTokensConfig.TOKENIZER_CONFIG + "/" + SpecialTokensConfig.SPECIAL_TOKENS_MAP
                        + " has no id and is not a piece of " + source);
            }
            addedIds[i] = id;
            vocab = Math.max(vocab, id + 1);
            entries.add(new AddedTokenSplitter.Entry(t.content(), id, t.lstrip(), t.rstrip()));
        }
        this.addedTokenText = new String[vocab];
        this.skipOnDecode = new boolean[vocab];
        for (int id = 0; id < pieces; id++) {
            PieceType type = model.pieces().get(id).type();
            skipOnDecode[id] = type == PieceType.CONTROL || type == PieceType.UNKNOWN;
        }
        for (int i = 0; i < addedIds.length; i++) {
            SpecialTokensConfig.AddedToken t = config.addedTokens().get(i);
            if (addedIds[i] >= pieces) {
                addedTokenText[addedIds[i]] = t.content();
            }
            skipOnDecode[addedIds[i]] |= t.special();
        }
        this.splitter = new AddedTokenSplitter(entries);
        this.special = new SpecialTokenPolicy(tokenId(config.bosToken(), model.bosId(), entries, source),
                tokenId(config.eosToken(), model.eosId(), entries, source), config);
    }

    private int tokenId(String text, int modelDefault, List<AddedTokenSplitter.Entry> entries, Path source) {
        if (text == null) {
            return modelDefault;
        }
        for (AddedTokenSplitter.Entry e : entries) {
            if (e.content().equals(text)) {
                return e.id();
            }
        }
        int id = bpe.pieceId(text);
        if (id < 0) {
            throw new TokenizerLoadException("token \"" + text + "\" is not a piece of " + source);
        }
        return id;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        return special.encode(addBos, text.length() / 3 + 4, out -> {
            for (AddedTokenSplitter.Part part : splitter.split(text)) {
                if (part instanceof AddedTokenSplitter.Token t) {
                    out.add(t.id());
                } else if (part instanceof AddedTokenSplitter.Text t) {
                    bpe.encode(normalize(t.text()), out);
                }
            }
        });
    }

    /** SentencePiece's identity normalizer: optional whitespace cleanup, dummy prefix, spaces to U+2581. */
    private String normalize(String text) {
        String t = model.removeExtraWhitespaces() ? collapseSpaces(text) : text;
        if (t.isEmpty()) {
            return t;
        }
        if (model.addDummyPrefix()) {
            t = " " + t;
        }
        return model.escapeWhitespaces() ? t.replace(' ', SPACE_MARK) : t;
    }

    private static String collapseSpaces(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        boolean pendingSpace = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ' ') {
                pendingSpace = sb.length() > 0;
            } else {
                if (pendingSpace) {
                    sb.append(' ');
                    pendingSpace = false;
                }
                sb.append(c);
            }
        }
        return sb.toString();
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder out = new StringBuilder();
        byte[] pendingBytes = new byte[16];
        int pending = 0;
        for (int id : ids) {
            if (id < 0 || id >= skipOnDecode.length) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, "
                        + skipOnDecode.length + ")");
            }
            if (skipOnDecode[id]) {
                continue;
            }
            if (id >= model.pieces().size()) {
                pending = flushBytes(pendingBytes, pending, out);
                out.append(addedTokenText[id]);
                continue;
            }
            Piece piece = model.pieces().get(id);
            int b = piece.type() == PieceType.BYTE ? SentencePieceBpe.byteValue(piece.text()) : -1;
            if (b >= 0) {
                if (pending == pendingBytes.length) {
                    pendingBytes = Arrays.copyOf(pendingBytes, pending * 2);
                }
                pendingBytes[pending++] = (byte) b;
            } else {
                pending = flushBytes(pendingBytes, pending, out);
                out.append(piece.text().replace(SPACE_MARK, ' '));
            }
        }
        flushBytes(pendingBytes, pending, out);
        return out.length() > 0 && out.charAt(0) == ' ' ? out.substring(1) : out.toString();
    }

    /** Appends a run of byte pieces: its text if valid UTF-8, else one U+FFFD per byte (HF ByteFallback). */
    private static int flushBytes(byte[] bytes, int n, StringBuilder out) {
        if (n == 0) {
            return 0;
        }
        try {
            out.append(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, n)));
        } catch (CharacterCodingException e) {
            out.append("\uFFFD".repeat(n));
        }
        return 0;
    }

    @Override
    public int bosId() {
        return special.bosId();
    }

    @Override
    public int eosId() {
        return special.eosId();
    }

    @Override
    public int vocabSize() {
        return skipOnDecode.length;
    }
}
