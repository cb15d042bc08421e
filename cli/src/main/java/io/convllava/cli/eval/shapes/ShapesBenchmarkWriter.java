package io.convllava.cli.eval.shapes;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a benchmark of generated shapes scenes in the file format of each benchmark {@code convllava eval} scores,
 * so that the demo model can be scored end to end. The questions are those the demo model was trained on where the
 * format allows (counting, colour, shape, description, grounding), and the formats' own kinds where not (POPE's and
 * MME's yes/no questions, which the demo model never saw):
 * <ul>
 *   <li>{@code images/}: the 256 px scenes;</li>
 *   <li>{@code textvqa.json}: count, shape and colour questions, 10 identical human answers each ("three");</li>
 *   <li>{@code docvqa.json}: count and description questions (question types "count", "describe");</li>
 *   <li>{@code pope.jsonl}: "Is there a red circle in the image?", a yes and a no per scene; the absent object random,
 *       the most frequent one absent (popular), or a shape of the scene in a colour it lacks (adversarial);</li>
 *   <li>{@code mme/}: subtasks existence, count and color, two questions per image (yes and no);</li>
 *   <li>{@code mmbench.tsv}: count and colour questions with 3 or 4 options (not shape: "A triangle." reads as
 *       option A in the reference extraction);</li>
 *   <li>{@code refcoco.jsonl}, {@code refcoco-images/}: the grounding question; letterboxed scenes cropped to their
 *       content, so that boxes are mapped back on non-square images.</li>
 * </ul>
 * Scene i is the same whatever the number of scenes written.
 */
public final class ShapesBenchmarkWriter {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
    private static final Gson PRETTY = new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create();
    private static final String[] POPE_CATEGORIES = {"random", "popular", "adversarial"};
    private static final String[] MME_SUBTASKS = {"existence", "count", "color"};
    /** Where the question draws of a scene start: a stream apart from its geometry's. */
    private static final long QUESTIONS = 0x51ED27C3A4B5L;

    private ShapesBenchmarkWriter() {
    }

    /** What was written: file -> number of questions. */
    public record Summary(Path dir, int scenes, Map<String, Integer> questions) {
    }

    public static Summary write(Path dir, int count, long seed) throws IOException {
        if (count < 1) {
            throw new IllegalArgumentException("the number of scenes must be at least 1, not " + count);
        }
        List<ShapesScene> scenes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            scenes.add(ShapesScene.generate(seed, i));
        }
        Files.createDirectories(dir.resolve("images"));
        Files.createDirectories(dir.resolve("refcoco-images"));
        for (ShapesScene scene : scenes) {
            ImageIO.write(ShapesRenderer.render(scene), "png",
                    dir.resolve("images").resolve(scene.fileName()).toFile());
            ImageIO.write(ShapesRenderer.renderContent(scene), "png",
                    dir.resolve("refcoco-images").resolve(scene.fileName()).toFile());
        }
        Map<String, Integer> written = new LinkedHashMap<>();
        written.put("textvqa.json", textVqa(dir, scenes, seed));
        written.put("docvqa.json", docVqa(dir, scenes));
        written.put("pope.jsonl", pope(dir, scenes, seed));
        written.put("mme/", mme(dir, scenes, seed));
        written.put("mmbench.tsv", mmbench(dir, scenes, seed));
        written.put("refcoco.jsonl", refcoco(dir, scenes, seed));
        return new Summary(dir, count, written);
    }

    private static SplittableRandom questions(long seed, ShapesScene scene, String benchmark) {
        return ShapesScene.random(seed ^ QUESTIONS ^ benchmark.hashCode(), scene.index());
    }

    private static SceneObject anyObject(ShapesScene scene, SplittableRandom rnd) {
        return scene.objects().get(rnd.nextInt(scene.objects().size()));
    }

    private static int textVqa(Path dir, List<ShapesScene> scenes, long seed) throws IOException {
        JsonArray data = new JsonArray();
        for (ShapesScene scene : scenes) {
            SplittableRandom rnd = questions(seed, scene, "textvqa");
            List<ShapesQuestion> asked = List.of(ShapesQuestion.count(scene), ShapesQuestion.shape(anyObject(scene,
                    rnd)), ShapesQuestion.color(scene, anyObject(scene, rnd), rnd));
            for (ShapesQuestion q : asked) {
                JsonObject item = new JsonObject();
                item.addProperty("question_id", data.size());
                item.addProperty("question", q.question());
                item.addProperty("image_id", scene.fileName().replace(".png", ""));
                item.addProperty("image_width", ShapesScene.SIDE);
                item.addProperty("image_height", ShapesScene.SIDE);
                JsonArray answers = new JsonArray();
                String word = lastWord(q.truth());
                for (int i = 0; i < 10; i++) {
                    answers.add(word);
                }
                item.add("answers", answers);
                item.addProperty("category", q.kind());
                data.add(item);
            }
        }
        JsonObject root = new JsonObject();
        root.addProperty("dataset_name", "shapes-textvqa");
        root.addProperty("dataset_type", "val");
        root.add("data", data);
        Files.writeString(dir.resolve("textvqa.json"), PRETTY.toJson(root) + "\n");
        return data.size();
    }

    /** "A triangle." -> "triangle", "Three." -> "three": an annotator's short answer. */
    private static String lastWord(String truth) {
        String[] words = truth.replace(".", "").split(" ");
        return words[words.length - 1].toLowerCase(Locale.ROOT);
    }

    private static int docVqa(Path dir, List<ShapesScene> scenes) throws IOException {
        JsonArray data = new JsonArray();
        for (ShapesScene scene : scenes) {
            ShapesQuestion count = ShapesQuestion.count(scene);
            int n = scene.objects().size();
            add(data, scene, count, List.of(count.truth(), ShapesQuestion.numberWord(n), Integer.toString(n)));
            ShapesQuestion describe = ShapesQuestion.describe(scene);
            add(data, scene, describe, List.of(describe.truth()));
        }
        JsonObject root = new JsonObject();
        root.addProperty("dataset_name", "shapes-docvqa");
        root.addProperty("dataset_split", "val");
        root.add("data", data);
        Files.writeString(dir.resolve("docvqa.json"), PRETTY.toJson(root) + "\n");
        return data.size();
    }

    private static void add(JsonArray data, ShapesScene scene, ShapesQuestion q, List<String> answers) {
        JsonObject item = new JsonObject();
        item.addProperty("questionId", data.size());
        item.addProperty("question", q.question());
        item.addProperty("image", scene.fileName());
        item.addProperty("docId", scene.index());
        JsonArray a = new JsonArray();
        answers.forEach(a::add);
        item.add("answers", a);
        JsonArray types = new JsonArray();
        types.add(q.kind());
        item.add("question_types", types);
        data.add(item);
    }

    /** A colour-shape pair. */
    private record Kind(ShapeColour colour, ShapeKind shape) {
        static Kind of(SceneObject o) {
            return new Kind(o.colour(), o.shape());
        }

        String phrase() {
            String colour = colour().word();
            return ("aeiou".indexOf(colour.charAt(0)) >= 0 ? "an " : "a ") + colour + " " + shape.word();
        }
    }

    private static List<Kind> absentKinds(ShapesScene scene) {
        List<Kind> present = scene.objects().stream().map(Kind::of).toList();
        List<Kind> absent = new ArrayList<>();
        for (ShapeColour c : ShapeColour.values()) {
            for (ShapeKind s : ShapeKind.values()) {
                Kind k = new Kind(c, s);
                if (!present.contains(k)) {
                    absent.add(k);
                }
            }
        }
        return absent;
    }

    private static int pope(Path dir, List<ShapesScene> scenes, long seed) throws IOException {
        Map<Kind, Integer> frequency = new LinkedHashMap<>();
        scenes.forEach(s -> s.objects().forEach(o -> frequency.merge(Kind.of(o), 1, Integer::sum)));
        StringBuilder out = new StringBuilder();
        int id = 0;
        for (ShapesScene scene : scenes) {
            SplittableRandom rnd = questions(seed, scene, "pope");
            String category = POPE_CATEGORIES[scene.index() % 3];
            Kind present = Kind.of(anyObject(scene, rnd));
            List<Kind> absent = absentKinds(scene);
            Kind negative = switch (category) {
                case "random" -> absent.get(rnd.nextInt(absent.size()));
                case "popular" -> Collections.max(absent, Comparator.comparingInt(k -> frequency.getOrDefault(k, 0)));
                default -> adversarial(scene, rnd);
            };
            for (Kind k : List.of(present, negative)) {
                JsonObject line = new JsonObject();
                line.addProperty("question_id", ++id);
                line.addProperty("image", scene.fileName());
                line.addProperty("text", "Is there " + k.phrase() + " in the image?");
                line.addProperty("label", k == present ? "yes" : "no");
                line.addProperty("category", category);
                out.append(GSON.toJson(line)).append('\n');
            }
        }
        Files.writeString(dir.resolve("pope.jsonl"), out.toString());
        return id;
    }

    /** A shape of the scene in a colour the scene lacks: only binding colour to shape tells it is absent. */
    private static Kind adversarial(ShapesScene scene, SplittableRandom rnd) {
        ShapeKind shape = anyObject(scene, rnd).shape();
        List<ShapeColour> colours = new ArrayList<>(List.of(ShapeColour.values()));
        scene.objects().forEach(o -> colours.remove(o.colour()));
        return new Kind(colours.get(rnd.nextInt(colours.size())), shape);
    }

    private static int mme(Path dir, List<ShapesScene> scenes, long seed) throws IOException {
        int questions = 0;
        for (ShapesScene scene : scenes) {
            SplittableRandom rnd = questions(seed, scene, "mme");
            String subtask = MME_SUBTASKS[scene.index() % 3];
            String yes;
            String no;
            switch (subtask) {
                case "existence" -> {
                    yes = "Is there " + Kind.of(anyObject(scene, rnd)).phrase() + " in this image?";
                    List<Kind> absent = absentKinds(scene);
                    no = "Is there " + absent.get(rnd.nextInt(absent.size())).phrase() + " in this image?";
                }
                case "count" -> {
                    int n = scene.objects().size();
                    int wrong = 1 + (n + rnd.nextInt(2)) % 3; // another of 1, 2, 3
                    yes = countQuestion(n);
                    no = countQuestion(wrong);
                }
                default -> {
                    ShapeColour present = anyObject(scene, rnd).colour();
                    List<ShapeColour> absent = new ArrayList<>(List.of(ShapeColour.values()));
                    scene.objects().forEach(o -> absent.remove(o.colour()));
                    yes = "Is there a " + present.word() + " shape in this image?";
                    no = "Is there a " + absent.get(rnd.nextInt(absent.size())).word() + " shape in this image?";
                }
            }
            Path folder = dir.resolve("mme").resolve(subtask);
            Files.createDirectories(folder);
            Files.copy(dir.resolve("images").resolve(scene.fileName()), folder.resolve(scene.fileName()),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            String suffix = " Please answer yes or no.";
            Files.writeString(folder.resolve(scene.fileName().replace(".png", ".txt")),
                    yes + suffix + "\tYes\n" + no + suffix + "\tNo\n");
            questions += 2;
        }
        return questions;
    }

    private static String countQuestion(int n) {
        return n == 1 ? "Is there one shape in this image?"
                : "Are there " + ShapesQuestion.numberWord(n) + " shapes in this image?";
    }

    private static int mmbench(Path dir, List<ShapesScene> scenes, long seed) throws IOException {
        StringBuilder out = new StringBuilder("index\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\tl2-category\tsplit"
                + "\timage\n");
        for (ShapesScene scene : scenes) {
            SplittableRandom rnd = questions(seed, scene, "mmbench");
            ShapesQuestion q;
            List<String> options = new ArrayList<>();
            if (scene.index() % 2 == 0) {
                q = ShapesQuestion.count(scene);
                for (int n = 1; n <= 3; n++) {
                    options.add(ShapesQuestion.capitalised(ShapesQuestion.numberWord(n)));
                }
            } else {
                q = ShapesQuestion.color(scene, anyObject(scene, rnd), rnd);
                List<String> others = new ArrayList<>();
                for (ShapeColour c : ShapeColour.values()) {
                    String word = ShapesQuestion.capitalised(c.word());
                    if (!q.truth().equals(word + ".")) {
                        others.add(word);
                    }
                }
                options.add(q.truth().replace(".", ""));
                for (int i = 0; i < 3; i++) {
                    options.add(others.remove(rnd.nextInt(others.size())));
                }
            }
            String right = q.truth().replace(".", "");
            shuffle(options, rnd);
            String[] letters = {"A", "B", "C", "D"};
            List<String> fields = new ArrayList<>(List.of(Integer.toString(scene.index()), q.question(), ""));
            for (int i = 0; i < 4; i++) {
                fields.add(i < options.size() ? options.get(i) : "");
            }
            fields.add(letters[options.indexOf(right)]);
            fields.add(q.kind());
            fields.add("finegrained_perception (instance)");
            fields.add("dev");
            fields.add(Base64.getEncoder().encodeToString(Files.readAllBytes(dir.resolve("images")
                    .resolve(scene.fileName()))));
            out.append(String.join("\t", fields)).append('\n');
        }
        Files.writeString(dir.resolve("mmbench.tsv"), out.toString(), StandardCharsets.UTF_8);
        return scenes.size();
    }

    private static void shuffle(List<String> list, SplittableRandom rnd) {
        for (int i = list.size() - 1; i > 0; i--) {
            Collections.swap(list, i, rnd.nextInt(i + 1));
        }
    }

    private static int refcoco(Path dir, List<ShapesScene> scenes, long seed) throws IOException {
        StringBuilder out = new StringBuilder();
        for (ShapesScene scene : scenes) {
            SceneObject object = anyObject(scene, questions(seed, scene, "refcoco"));
            double[] b = object.box(ShapesScene.SIDE);
            // the visible part, in the pixels of the content image
            double x1 = Math.max(b[0], scene.x0()) - scene.x0();
            double y1 = Math.max(b[1], scene.y0()) - scene.y0();
            double x2 = Math.min(b[2], scene.x1()) - scene.x0();
            double y2 = Math.min(b[3], scene.y1()) - scene.y0();
            JsonObject line = new JsonObject();
            line.addProperty("image", scene.fileName());
            line.addProperty("sent", object.description());
            JsonArray box = new JsonArray();
            for (double v : new double[] {x1, y1, x2, y2}) {
                box.add(Math.round(v * 100) / 100.0);
            }
            line.add("bbox", box);
            line.addProperty("width", scene.contentWidth());
            line.addProperty("height", scene.contentHeight());
            line.addProperty("category", scene.letterboxed() ? "non-square" : "square");
            out.append(GSON.toJson(line)).append('\n');
        }
        Files.writeString(dir.resolve("refcoco.jsonl"), out.toString());
        return scenes.size();
    }
}
