package io.convllava.tests.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A Dockerfile as its instructions: continuation lines joined, comments and the parser directive dropped, each
 * instruction with the stage it belongs to.
 */
final class Dockerfile {
    /** One instruction: {@code RUN mvn ...} is keyword RUN, arguments {@code mvn ...}. */
    record Instruction(String stage, String keyword, String arguments, int line) {
        /** The JSON-array form's elements ({@code ["a", "b"]}), or the words of the shell form. */
        List<String> words() {
            String a = arguments.strip();
            if (a.startsWith("[")) {
                List<String> words = new ArrayList<>();
                for (String part : a.substring(1, a.length() - 1).split(",")) {
                    words.add(part.strip().replaceAll("^\"|\"$", ""));
                }
                return words;
            }
            return List.of(a.split("\\s+"));
        }

        /** The value of {@code --name=value} among the arguments, e.g. COPY's --from. */
        Optional<String> flag(String name) {
            for (String word : arguments.strip().split("\\s+")) {
                if (word.startsWith("--" + name + "=")) {
                    return Optional.of(word.substring(name.length() + 3));
                }
            }
            return Optional.empty();
        }
    }

    /** A FROM line: the image (or earlier stage) and the stage's name. */
    record Stage(String name, String from) {
    }

    private final List<Instruction> instructions;
    private final List<Stage> stages;

    private Dockerfile(List<Instruction> instructions, List<Stage> stages) {
        this.instructions = instructions;
        this.stages = stages;
    }

    static Dockerfile parse(String text) {
        List<Instruction> instructions = new ArrayList<>();
        List<Stage> stages = new ArrayList<>();
        String stage = null;
        StringBuilder pending = null;
        int start = 0;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (pending == null && (line.isBlank() || line.stripLeading().startsWith("#"))) {
                continue;
            }
            if (pending != null && line.stripLeading().startsWith("#")) {
                continue; // a comment inside a continued instruction
            }
            if (pending == null) {
                pending = new StringBuilder();
                start = i + 1;
            }
            boolean continues = line.endsWith("\\");
            pending.append(continues ? line.substring(0, line.length() - 1) : line).append(' ');
            if (continues) {
                continue;
            }
            String instruction = pending.toString().strip();
            pending = null;
            int space = instruction.indexOf(' ');
            String keyword = instruction.substring(0, space).toUpperCase(Locale.ROOT);
            String arguments = instruction.substring(space + 1).strip();
            if (keyword.equals("FROM")) {
                String[] words = arguments.split("\\s+");
                stage = words.length >= 3 && words[1].equalsIgnoreCase("AS") ? words[2] : "#" + stages.size();
                stages.add(new Stage(stage, words[0]));
            }
            instructions.add(new Instruction(stage, keyword, arguments, start));
        }
        return new Dockerfile(instructions, stages);
    }

    List<Stage> stages() {
        return stages;
    }

    /** The instructions with {@code keyword}, in order; {@code stage} null for every stage. */
    List<Instruction> all(String keyword, String stage) {
        return instructions.stream()
                .filter(i -> i.keyword().equals(keyword) && (stage == null || stage.equals(i.stage())))
                .toList();
    }

    /** The default value of {@code ARG name=value} before the first stage, or in {@code stage}. */
    Optional<String> argDefault(String name, String stage) {
        return instructions.stream()
                .filter(i -> i.keyword().equals("ARG") && (i.stage() == null || i.stage().equals(stage)))
                .map(Instruction::arguments)
                .filter(a -> a.startsWith(name + "="))
                .map(a -> a.substring(name.length() + 1))
                .findFirst();
    }
}
