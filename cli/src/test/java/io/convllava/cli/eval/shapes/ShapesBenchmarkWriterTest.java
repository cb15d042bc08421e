package io.convllava.cli.eval.shapes;

import io.convllava.cli.eval.MmbenchFormat;
import io.convllava.cli.eval.MmbenchQuestion;
import io.convllava.cli.eval.MmeFormat;
import io.convllava.cli.eval.MmeQuestion;
import io.convllava.cli.eval.PopeFormat;
import io.convllava.cli.eval.PopeQuestion;
import io.convllava.cli.eval.RefCocoFormat;
import io.convllava.cli.eval.RefCocoQuestion;
import io.convllava.cli.eval.TextVqaFormat;
import io.convllava.cli.eval.DocVqaFormat;
import io.convllava.cli.eval.VqaQuestion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every file the generator writes reads back through its benchmark's format, with truths that match the scenes. */
class ShapesBenchmarkWriterTest {
    @TempDir
    Path dir;

    @Test
    void eachFormatReadsBackWithTheScenesTruths() throws IOException {
        int scenes = 9;
        ShapesBenchmarkWriter.Summary summary = ShapesBenchmarkWriter.write(dir, scenes, 7);
        Path images = dir.resolve("images");

        List<VqaQuestion> textVqa = TextVqaFormat.read(dir.resolve("textvqa.json"), images);
        assertEquals(3 * scenes, textVqa.size());
        for (int i = 0; i < scenes; i++) {
            VqaQuestion count = textVqa.get(3 * i);
            assertEquals(List.of("count"), count.categories());
            assertEquals("How many shapes are in the image?", count.question());
            int n = ShapesScene.generate(7, i).objects().size();
            assertEquals(ShapesQuestion.numberWord(n), count.answers().get(0));
        }

        List<VqaQuestion> docVqa = DocVqaFormat.read(dir.resolve("docvqa.json"), images);
        assertEquals(2 * scenes, docVqa.size());
        assertEquals(List.of("describe"), docVqa.get(1).categories());

        List<PopeQuestion> pope = PopeFormat.read(dir.resolve("pope.jsonl"), images);
        assertEquals(2 * scenes, pope.size());
        assertEquals(scenes, pope.stream().filter(PopeQuestion::yes).count(), "one yes and one no per scene");
        assertEquals(List.of("random", "popular", "adversarial"),
                pope.stream().map(PopeQuestion::category).distinct().toList());

        List<MmeQuestion> mme = MmeFormat.read(dir.resolve("mme"));
        assertEquals(2 * scenes, mme.size());

        List<MmbenchQuestion> mmbench = MmbenchFormat.read(dir.resolve("mmbench.tsv"), dir);
        // count questions (even scenes) have 3 options, colour questions 4
        assertEquals(5 * 3 + 4 * 4, mmbench.size());

        List<RefCocoQuestion> refcoco = RefCocoFormat.read(dir.resolve("refcoco.jsonl"), dir.resolve("refcoco-images"));
        assertEquals(scenes, refcoco.size());
        for (int i = 0; i < scenes; i++) {
            ShapesScene scene = ShapesScene.generate(7, i);
            RefCocoQuestion q = refcoco.get(i);
            BufferedImage content = ImageIO.read(dir.resolve("refcoco-images").resolve(scene.fileName()).toFile());
            assertEquals(content.getWidth(), q.width());
            assertEquals(content.getHeight(), q.height());
            assertEquals(scene.letterboxed() ? "non-square" : "square", q.category());
            assertTrue(q.box()[0] >= 0 && q.box()[2] <= q.width() && q.box()[1] >= 0 && q.box()[3] <= q.height());
        }
        assertEquals(List.of("textvqa.json", "docvqa.json", "pope.jsonl", "mme/", "mmbench.tsv", "refcoco.jsonl"),
                List.copyOf(summary.questions().keySet()));
    }

    @Test
    void sceneIDoesNotDependOnHowManyAreWritten() throws IOException {
        ShapesBenchmarkWriter.write(dir.resolve("small"), 2, 7);
        ShapesBenchmarkWriter.write(dir.resolve("large"), 5, 7);
        for (String file : List.of("shapes-0000.png", "shapes-0001.png")) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("small/images").resolve(file)),
                    Files.readAllBytes(dir.resolve("large/images").resolve(file)), file);
        }
    }
}
