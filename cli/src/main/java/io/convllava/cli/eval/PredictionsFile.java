package io.convllava.cli.eval;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The answers of a run, one JSON line each ({@code {"id", "image", "prompt", "text"}}), appended and flushed as they
 * come: a run that stops (Ctrl-C, a failure) keeps every answer it got, and the next run with the same file asks
 * only the rest. An unfinished last line (the process died while writing it) is dropped when the file is opened.
 */
public final class PredictionsFile implements AutoCloseable {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private final Path file;
    private final Map<String, Prediction> existing;
    private final BufferedWriter writer;
    private final boolean droppedUnfinishedLine;

    private PredictionsFile(Path file, Map<String, Prediction> existing, BufferedWriter writer, boolean dropped) {
        this.file = file;
        this.existing = existing;
        this.writer = writer;
        this.droppedUnfinishedLine = dropped;
    }

    /** Opens (or creates) the file for appending, after reading what it holds. */
    public static PredictionsFile open(Path file) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        boolean dropped = dropUnfinishedLine(file);
        Map<String, Prediction> existing = new LinkedHashMap<>();
        if (Files.exists(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                Prediction p = parse(lines.get(i), file + " line " + (i + 1));
                existing.put(p.id(), p);
            }
        }
        BufferedWriter writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        return new PredictionsFile(file, Collections.unmodifiableMap(existing), writer, dropped);
    }

    private static Prediction parse(String line, String where) {
        try {
            Prediction p = GSON.fromJson(line, Prediction.class);
            if (p == null || p.id() == null || p.text() == null) {
                throw new BenchmarkFormatException(where + ": a prediction needs 'id' and 'text'");
            }
            return p;
        } catch (JsonParseException e) {
            throw new BenchmarkFormatException(where + ": not a prediction line (" + e.getMessage() + "); is this a"
                    + " predictions file of convllava eval?", e);
        }
    }

    /** Cuts the file after its last line break: what follows is a line whose writing never finished. */
    private static boolean dropUnfinishedLine(Path file) throws IOException {
        if (!Files.exists(file) || Files.size(file) == 0) {
            return false;
        }
        byte[] bytes = Files.readAllBytes(file);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
            end--;
        }
        if (end == bytes.length) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(end);
        }
        return true;
    }

    public Path path() {
        return file;
    }

    /** The answers the file held when it was opened, by question id. */
    public Map<String, Prediction> existing() {
        return existing;
    }

    /** Whether opening it dropped an unfinished last line. */
    public boolean droppedUnfinishedLine() {
        return droppedUnfinishedLine;
    }

    /** Writes one answer and flushes it. */
    public synchronized void append(Prediction prediction) {
        try {
            writer.write(GSON.toJson(prediction));
            writer.write('\n');
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        writer.close();
    }
}
