package io.convllava.coordinator.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.convllava.common.testing.Fixtures;
import io.convllava.coordinator.text.SentencePieceModel.PieceType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading ModelProto files, and the BPE rules the LLaMA vocabulary does not exercise, on a hand-made model. */
class SentencePieceModelTest {

    @TempDir
    Path dir;

    @Test
    void readsTheLlamaModelOfTheFixture() {
        SentencePieceModel m = SentencePieceModel.read(Fixtures.tinyModel().resolve("tokenizer.model"));
        assertEquals(32000, m.pieces().size());
        assertEquals(0, m.unkId());
        assertEquals(1, m.bosId());
        assertEquals(2, m.eosId());
        assertEquals(-1, m.padId());
        assertTrue(m.byteFallback());
        assertTrue(m.addDummyPrefix());
        assertFalse(m.removeExtraWhitespaces());
        assertTrue(m.escapeWhitespaces());
        assertEquals(new SentencePieceModel.Piece("<unk>", 0f, PieceType.UNKNOWN), m.pieces().get(0));
        assertEquals(PieceType.CONTROL, m.pieces().get(1).type());
        assertEquals(new SentencePieceModel.Piece("<0x0A>", 0f, PieceType.BYTE), m.pieces().get(13));
        assertEquals(new SentencePieceModel.Piece("\u2581t", -260.0f, PieceType.NORMAL), m.pieces().get(260));
        assertEquals(-1e9f, m.pieces().get(259).score()); // "▁▁": whitespace runs merge last
    }

    /**
     * Vocabulary: "ab" is UNUSED (merged, then split back), "<x>" is USER_DEFINED (never merged into or split),
     * no byte fallback (unknown characters give unk), default remove_extra_whitespaces (true).
     */
    private Tokenizer handMadeTokenizer() throws IOException {
        Path file = dir.resolve("tokenizer.model");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        Object[][] pieces = {
            {"<unk>", 0f, 2}, {"<s>", 0f, 3}, {"</s>", 0f, 3}, {"\u2581", -1f, 1}, {"a", -2f, 1}, {"b", -3f, 1},
            {"c", -4f, 1}, {"ab", -5f, 5}, {"abc", -6f, 1}, {"<x>", 0f, 4}, {"x", -7f, 1}, {"\u2581a", -8f, 1},
        };
        for (Object[] p : pieces) {
            out.writeBytes(1, piece((String) p[0], (float) p[1], (int) p[2]));
        }
        out.writeBytes(2, message(o -> o.writeEnum(3, 2)));                // trainer_spec.model_type = BPE
        out.writeBytes(3, message(o -> o.writeString(1, "identity")));     // normalizer_spec.name
        out.flush();
        Files.write(file, bytes.toByteArray());
        return Tokenizers.loadSentencePiece(dir);
    }

    @Test
    void unusedPiecesAreSplitBackAndUserDefinedPiecesStayWhole() throws IOException {
        Tokenizer t = handMadeTokenizer();
        assertArrayEquals(new int[] {3, 8}, t.encode("abc", false));        // ab (unused) then abc
        assertArrayEquals(new int[] {3, 4, 5}, t.encode("ab", false));      // ab is unused: a, b
        assertArrayEquals(new int[] {1, 11, 9, 5}, t.encode("a<x>b", true)); // <x> is one frozen symbol
        assertArrayEquals(new int[] {3, 0}, t.encode("\u00e4", false));      // no byte fallback: unk
        assertArrayEquals(new int[] {11, 3, 5}, t.encode("  a   b  ", false)); // extra spaces removed
        assertArrayEquals(new int[] {}, t.encode("   ", false));
        assertEquals("a<x>b", t.decode(new int[] {1, 11, 9, 5, 2}));
        assertEquals(12, t.vocabSize());
    }

    @Test
    void rejectsWhatItCannotEncode() throws IOException {
        Path unigram = dir.resolve("unigram.model");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeBytes(1, piece("<unk>", 0f, 2));
        out.writeBytes(2, message(o -> o.writeEnum(3, 1)));
        out.flush();
        Files.write(unigram, bytes.toByteArray());
        TokenizerLoadException e = assertThrows(TokenizerLoadException.class, () -> SentencePieceModel.read(unigram));
        assertTrue(e.getMessage().contains("unigram.model") && e.getMessage().contains("BPE"), e.getMessage());

        Path garbage = dir.resolve("garbage.model");
        Files.write(garbage, new byte[] {(byte) 0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        e = assertThrows(TokenizerLoadException.class, () -> SentencePieceModel.read(garbage));
        assertTrue(e.getMessage().contains("garbage.model"), e.getMessage());

        e = assertThrows(TokenizerLoadException.class, () -> SentencePieceModel.read(dir.resolve("missing.model")));
        assertTrue(e.getMessage().contains("missing.model"), e.getMessage());
    }

    private static ByteString piece(String text, float score, int type) throws IOException {
        return message(o -> {
            o.writeString(1, text);
            o.writeFloat(2, score);
            o.writeEnum(3, type);
        });
    }

    private interface Writer {
        void write(CodedOutputStream out) throws IOException;
    }

    private static ByteString message(Writer w) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        w.write(out);
        out.flush();
        return ByteString.copyFrom(bytes.toByteArray());
    }
}
