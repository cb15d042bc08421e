package io.convllava.cli.eval;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * RefCOCO, RefCOCO+ and RefCOCOg in the JSON-lines files of InternVL that ConvLLaVA's {@code evaluate_grounding.py}
 * reads: {@code {"image", "sent", "bbox": [x1, y1, x2, y2] (pixels), "width", "height"}}. The id is
 * {@code "question_id"} when present, else the line number; an optional {@code "category"} groups the rows; without
 * {@code width} and {@code height} the image's own size is read.
 */
public final class RefCocoFormat {
    private RefCocoFormat() {
    }

    public static List<RefCocoQuestion> read(Path data, Path images) {
        List<RefCocoQuestion> questions = new ArrayList<>();
        int number = 0;
        for (DataFiles.Entry e : DataFiles.jsonLines(data)) {
            number++;
            Path image = DataFiles.image(images, e.string("image"), e.where());
            int width;
            int height;
            if (e.json().has("width") && e.json().has("height")) {
                width = e.integer("width");
                height = e.integer("height");
            } else {
                int[] size = imageSize(image, e.where());
                width = size[0];
                height = size[1];
            }
            if (width <= 0 || height <= 0) {
                throw new BenchmarkFormatException(e.where() + ": width and height should be positive, not " + width
                        + "x" + height);
            }
            questions.add(new RefCocoQuestion(e.optionalString("question_id").orElse(Integer.toString(number)),
                    EvalImage.file(image), e.string("sent"), e.numbers("bbox", 4), width, height,
                    e.optionalString("category").orElse(null)));
        }
        return questions;
    }

    /** The questions with the grounding prompt, scored by {@link RefCocoScorer}. */
    public static LoadedBenchmark load(Path data, Path images) {
        List<RefCocoQuestion> questions = read(data, images);
        List<EvalQuestion> asked = questions.stream().map(q -> new EvalQuestion(q.id(), q.image(),
                ReferencePrompts.grounding(q.sentence()))).toList();
        DataFiles.requireUniqueIds(asked, data);
        return new LoadedBenchmark(asked, answers -> RefCocoScorer.score(questions, answers));
    }

    /** {width, height} from the image file's header. */
    private static int[] imageSize(Path image, String where) {
        try (ImageInputStream in = ImageIO.createImageInputStream(image.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new BenchmarkFormatException(where + ": " + image + " is not an image this JVM can read; give"
                        + " 'width' and 'height'");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                return new int[] {reader.getWidth(0), reader.getHeight(0)};
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new BenchmarkFormatException(where + ": cannot read the size of " + image + ": " + e.getMessage(), e);
        }
    }
}
