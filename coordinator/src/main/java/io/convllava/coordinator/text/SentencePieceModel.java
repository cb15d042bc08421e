package io.convllava.coordinator.text;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a serialized SentencePiece {@code ModelProto} ({@code tokenizer.model}) that encoding and decoding
 * need, read field by field (numbers from sentencepiece's {@code sentencepiece_model.proto}); unknown fields are skipped.
 *
 * @param pieces              the vocabulary, index = token id
 * @param byteFallback        unknown characters become {@code <0xNN>} byte pieces instead of {@code <unk>}
 * @param addDummyPrefix      a {@code ▁} is put in front of the (non-empty) text
 * @param removeExtraWhitespaces leading, trailing and repeated spaces are dropped before encoding
 * @param escapeWhitespaces   spaces become {@code ▁}
 */
public record SentencePieceModel(
        List<Piece> pieces,
        int unkId,
        int bosId,
        int eosId,
        int padId,
        boolean byteFallback,
        boolean addDummyPrefix,
        boolean removeExtraWhitespaces,
        boolean escapeWhitespaces) {

    /** {@code ModelProto.SentencePiece.Type}. */
    public enum PieceType { NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE }

    public record Piece(String text, float score, PieceType type) {
    }

    // ModelProto
    private static final int MODEL_PIECES = 1;
    private static final int MODEL_TRAINER_SPEC = 2;
    private static final int MODEL_NORMALIZER_SPEC = 3;
    // ModelProto.SentencePiece
    private static final int PIECE_TEXT = 1;
    private static final int PIECE_SCORE = 2;
    private static final int PIECE_TYPE = 3;
    // TrainerSpec
    private static final int TRAINER_MODEL_TYPE = 3;
    private static final int TRAINER_TREAT_WHITESPACE_AS_SUFFIX = 24;
    private static final int TRAINER_BYTE_FALLBACK = 35;
    private static final int TRAINER_UNK_ID = 40;
    private static final int TRAINER_BOS_ID = 41;
    private static final int TRAINER_EOS_ID = 42;
    private static final int TRAINER_PAD_ID = 43;
    private static final int MODEL_TYPE_BPE = 2;
    // NormalizerSpec
    private static final int NORMALIZER_NAME = 1;
    private static final int NORMALIZER_PRECOMPILED_CHARSMAP = 2;
    private static final int NORMALIZER_ADD_DUMMY_PREFIX = 3;
    private static final int NORMALIZER_REMOVE_EXTRA_WHITESPACES = 4;
    private static final int NORMALIZER_ESCAPE_WHITESPACES = 5;

    public static SentencePieceModel read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerLoadException("cannot read SentencePiece model " + file, e);
        }
        try {
            return parse(bytes, file);
        } catch (IOException e) {
            throw new TokenizerLoadException(file + " is not a valid SentencePiece ModelProto: " + e.getMessage(), e);
        }
    }

    private static SentencePieceModel parse(byte[] bytes, Path file) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        List<Piece> pieces = new ArrayList<>(32000);
        Builder b = new Builder();
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case MODEL_PIECES -> pieces.add(readPiece(in, file, pieces.size()));
                case MODEL_TRAINER_SPEC -> readTrainerSpec(in, b, file);
                case MODEL_NORMALIZER_SPEC -> readNormalizerSpec(in, b, file);
                default -> in.skipField(tag);
            }
        }
        if (pieces.isEmpty()) {
            throw new TokenizerLoadException(file + " has no pieces (ModelProto field 1)");
        }
        if (b.unkId < 0 || b.unkId >= pieces.size()) {
            throw new TokenizerLoadException(file + ": trainer_spec.unk_id " + b.unkId + " is outside the "
                    + pieces.size() + " pieces");
        }
        return new SentencePieceModel(List.copyOf(pieces), b.unkId, b.bosId, b.eosId, b.padId, b.byteFallback,
                b.addDummyPrefix, b.removeExtraWhitespaces, b.escapeWhitespaces);
    }

    private static Piece readPiece(CodedInputStream in, Path file, int id) throws IOException {
        int limit = in.pushLimit(in.readRawVarint32());
        String text = null;
        float score = 0f;
        PieceType type = PieceType.NORMAL;
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case PIECE_TEXT -> text = in.readString();
                case PIECE_SCORE -> score = in.readFloat();
                case PIECE_TYPE -> type = pieceType(in.readEnum(), file, id);
                default -> in.skipField(tag);
            }
        }
        in.popLimit(limit);
        if (text == null || text.isEmpty()) {
            throw new TokenizerLoadException(file + ": piece " + id + " has no text");
        }
        return new Piece(text, score, type);
    }

    private static PieceType pieceType(int value, Path file, int id) {
        return switch (value) {
            case 1 -> PieceType.NORMAL;
            case 2 -> PieceType.UNKNOWN;
            case 3 -> PieceType.CONTROL;
            case 4 -> PieceType.USER_DEFINED;
            case 5 -> PieceType.UNUSED;
            case 6 -> PieceType.BYTE;
            default -> throw new TokenizerLoadException(file + ": piece " + id + " has unknown type " + value);
        };
    }

    private static void readTrainerSpec(CodedInputStream in, Builder b, Path file) throws IOException {
        int limit = in.pushLimit(in.readRawVarint32());
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case TRAINER_MODEL_TYPE -> {
                    int modelType = in.readEnum();
                    if (modelType != MODEL_TYPE_BPE) {
                        throw new TokenizerLoadException(file + ": trainer_spec.model_type is " + modelType
                                + ", only BPE (2) is supported");
                    }
                }
                case TRAINER_TREAT_WHITESPACE_AS_SUFFIX -> {
                    if (in.readBool()) {
                        throw new TokenizerLoadException(file
                                + ": trainer_spec.treat_whitespace_as_suffix is not supported");
                    }
                }
                case TRAINER_BYTE_FALLBACK -> b.byteFallback = in.readBool();
                case TRAINER_UNK_ID -> b.unkId = in.readInt32();
                case TRAINER_BOS_ID -> b.bosId = in.readInt32();
                case TRAINER_EOS_ID -> b.eosId = in.readInt32();
                case TRAINER_PAD_ID -> b.padId = in.readInt32();
                default -> in.skipField(tag);
            }
        }
        in.popLimit(limit);
    }

    private static void readNormalizerSpec(CodedInputStream in, Builder b, Path file) throws IOException {
        int limit = in.pushLimit(in.readRawVarint32());
        String name = "";
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case NORMALIZER_NAME -> name = in.readString();
                case NORMALIZER_PRECOMPILED_CHARSMAP -> {
                    if (in.readBytes().size() > 0) {
                        throw new TokenizerLoadException(file + ": normalizer_spec \"" + name
                                + "\" has a precompiled_charsmap; only the identity normalizer (LLaMA) is supported");
                    }
                }
                case NORMALIZER_ADD_DUMMY_PREFIX -> b.addDummyPrefix = in.readBool();
                case NORMALIZER_REMOVE_EXTRA_WHITESPACES -> b.removeExtraWhitespaces = in.readBool();
                case NORMALIZER_ESCAPE_WHITESPACES -> b.escapeWhitespaces = in.readBool();
                default -> in.skipField(tag);
            }
        }
        in.popLimit(limit);
    }

    /** Proto2 defaults of the fields we read. */
    private static final class Builder {
        int unkId = 0;
        int bosId = 1;
        int eosId = 2;
        int padId = -1;
        boolean byteFallback = false;
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
    }
}
