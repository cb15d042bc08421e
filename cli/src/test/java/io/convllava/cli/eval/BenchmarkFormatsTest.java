package io.convllava.cli.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each benchmark's own files, read from small hand-written copies, and the mistakes named where they are. */
class BenchmarkFormatsTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        return file;
    }

    private void image(String name) throws IOException {
        write(name, "not read by the formats");
    }

    @Test
    void popeTakesItsCategoryFromTheLineOrTheFileName() throws IOException {
        image("COCO_1.jpg");
        Path file = write("coco_pope_adversarial.json",
                "{\"question_id\": 1, \"image\": \"COCO_1.jpg\", \"text\": \"Is there a dog in the image?\","
                        + " \"label\": \"no\"}\n\n"
                        + "{\"question_id\": 2, \"image\": \"COCO_1.jpg\", \"text\": \"Is there a cat in the image?\","
                        + " \"label\": \"Yes\", \"category\": \"random\"}\n");
        List<PopeQuestion> questions = PopeFormat.read(file, dir);
        assertEquals(2, questions.size());
        assertEquals("adversarial", questions.get(0).category());
        assertEquals("random", questions.get(1).category());
        assertTrue(questions.get(1).yes());
        LoadedBenchmark loaded = PopeFormat.load(file, dir, PromptStyle.REFERENCE);
        assertEquals("Is there a dog in the image?\nAnswer the question using a single word or phrase.",
                loaded.questions().get(0).prompt());
        assertEquals("Is there a dog in the image?", PopeFormat.load(file, dir, PromptStyle.BARE).questions().get(0)
                .prompt());
    }

    @Test
    void popeMistakesNameFileLineAndField() throws IOException {
        image("a.jpg");
        Path badLabel = write("pope.jsonl", "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"q\","
                + " \"label\": \"maybe\"}\n");
        BenchmarkFormatException e = assertThrows(BenchmarkFormatException.class, () -> PopeFormat.read(badLabel, dir));
        assertEquals(badLabel + " line 1: label 'maybe' should be yes or no", e.getMessage());
        Path noImage = write("pope2.jsonl", "{\"question_id\": 1, \"image\": \"b.jpg\", \"text\": \"q\","
                + " \"label\": \"yes\"}\n");
        e = assertThrows(BenchmarkFormatException.class, () -> PopeFormat.read(noImage, dir));
        assertTrue(e.getMessage().startsWith(noImage + " line 1: image ") && e.getMessage().contains("b.jpg"),
                e.getMessage());
        Path noText = write("pope3.jsonl", "{\"question_id\": 1, \"image\": \"a.jpg\", \"label\": \"yes\"}\n");
        e = assertThrows(BenchmarkFormatException.class, () -> PopeFormat.read(noText, dir));
        assertEquals(noText + " line 1: no field 'text'", e.getMessage());
        Path twice = write("pope4.jsonl",
                "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"q\", \"label\": \"yes\"}\n"
                + "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"q\", \"label\": \"no\"}\n");
        e = assertThrows(BenchmarkFormatException.class, () -> PopeFormat.load(twice, dir, PromptStyle.REFERENCE));
        assertTrue(e.getMessage().contains("two questions have the id '1'"), e.getMessage());
        Path notJson = write("pope5.jsonl", "{\"question_id\": 1,\n");
        e = assertThrows(BenchmarkFormatException.class, () -> PopeFormat.read(notJson, dir));
        assertTrue(e.getMessage().startsWith(notJson + " line 1: not valid JSON"), e.getMessage());
    }

    @Test
    void textVqaNeedsTenAnswersAndFindsJpgOrPng() throws IOException {
        image("train_images/abc.png");
        String answers = "[\"3\", \"3\", \"3\", \"3\", \"3\", \"3\", \"3\", \"3\", \"3\", \"three\"]";
        Path file = write("TextVQA_0.5.1_val.json", "{\"data\": [{\"question_id\": 34602, \"question\":"
                + " \"what number is on the bus?\", \"image_id\": \"abc\", \"answers\": " + answers + "}]}");
        LoadedBenchmark loaded = TextVqaFormat.load(file, dir.resolve("train_images"), PromptStyle.REFERENCE);
        assertEquals("34602", loaded.questions().get(0).id());
        assertEquals("abc.png", loaded.questions().get(0).image().name());
        assertEquals("what number is on the bus?\n" + ReferencePrompts.SHORT_ANSWER,
                loaded.questions().get(0).prompt());
        Path three = write("few.json", "{\"data\": [{\"question_id\": 1, \"question\": \"q\", \"image_id\": \"abc\","
                + " \"answers\": [\"a\", \"b\", \"c\"]}]}");
        BenchmarkFormatException e = assertThrows(BenchmarkFormatException.class,
                () -> TextVqaFormat.read(three, dir.resolve("train_images")));
        assertEquals(three + " data[0]: 3 answers; VQA accuracy needs the 10 human answers of each question",
                e.getMessage());
        Path test = write("test.json",
                "{\"data\": [{\"question_id\": 1, \"question\": \"q\", \"image_id\": \"abc\"}]}");
        e = assertThrows(BenchmarkFormatException.class, () -> TextVqaFormat.read(test, dir.resolve("train_images")));
        assertTrue(e.getMessage().contains("score the val split"), e.getMessage());
    }

    @Test
    void docVqaRowsAreQuestionTypes() throws IOException {
        image("documents/doc1.png");
        Path file = write("val_v1.0.json", "{\"dataset_name\": \"docvqa\", \"data\": [{\"questionId\": 52212,"
                + " \"question\": \"What is the date?\", \"image\": \"documents/doc1.png\", \"docId\": 1,"
                + " \"answers\": [\"1/8/93\", \"01/08/93\"], \"question_types\": [\"form\", \"handwritten\"]}]}");
        VqaQuestion q = DocVqaFormat.read(file, dir).get(0);
        assertEquals("52212", q.id());
        assertEquals(List.of("1/8/93", "01/08/93"), q.answers());
        assertEquals(List.of("form", "handwritten"), q.categories());
    }

    @Test
    void refCocoReadsInternVlLinesNumberedByLine() throws IOException {
        image("coco/1.jpg");
        Path file = write("refcoco_val.jsonl", "{\"image\": \"coco/1.jpg\", \"sent\": \"man on the left\","
                + " \"bbox\": [10, 20, 110, 220], \"width\": 640, \"height\": 480}\n");
        RefCocoQuestion q = RefCocoFormat.read(file, dir).get(0);
        assertEquals("1", q.id());
        assertEquals(640, q.width());
        assertEquals(110.0, q.box()[2]);
        assertNull(q.category());
        assertEquals(ReferencePrompts.GROUNDING + "man on the left.", RefCocoFormat.load(file, dir).questions().get(0)
                .prompt());
        Path shortBox = write("bad.jsonl", "{\"image\": \"coco/1.jpg\", \"sent\": \"x\", \"bbox\": [1, 2, 3],"
                + " \"width\": 640, \"height\": 480}\n");
        BenchmarkFormatException e = assertThrows(BenchmarkFormatException.class, () -> RefCocoFormat.read(shortBox,
                dir));
        assertEquals(shortBox + " line 1: field 'bbox' should hold 4 numbers, not 3", e.getMessage());
    }

    @Test
    void mmeReadsBothFolderLayoutsAndDropsItsInstructionForLlavas() throws IOException {
        image("MME/count/000001.jpg");
        write("MME/count/000001.txt", "Are there two dogs in the image? Please answer yes or no.\tYes\n"
                + "Are there three dogs in the image? Please answer yes or no.\tNo\n");
        image("MME/artwork/images/10002.jpg");
        write("MME/artwork/questions_answers_YN/10002.txt", "Is this artwork created by Titian? Please answer yes or"
                + " no.\tNo\nIs this artwork created by Rembrandt? Please answer yes or no.\tYes\n");
        List<MmeQuestion> questions = MmeFormat.read(dir.resolve("MME"));
        assertEquals(4, questions.size());
        assertEquals("artwork/10002.jpg#1", questions.get(0).id());
        assertEquals("artwork", questions.get(0).subtask());
        assertEquals("count/000001.jpg#2", questions.get(3).id());
        assertEquals(List.of(false, true, true, false), questions.stream().map(MmeQuestion::yes).toList());
        LoadedBenchmark loaded = MmeFormat.load(dir.resolve("MME"), PromptStyle.REFERENCE);
        assertEquals("Is this artwork created by Titian?\n" + ReferencePrompts.SHORT_ANSWER,
                loaded.questions().get(0).prompt());
        write("MME/count/000001.txt", "Are there two dogs?\tPerhaps\n");
        BenchmarkFormatException e = assertThrows(BenchmarkFormatException.class,
                () -> MmeFormat.read(dir.resolve("MME")));
        assertEquals(dir.resolve("MME/count/000001.txt") + " line 1: answer 'Perhaps' should be Yes or No",
                e.getMessage());
    }
}
