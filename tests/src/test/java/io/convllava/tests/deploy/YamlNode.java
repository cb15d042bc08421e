package io.convllava.tests.deploy;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.fail;

/** A node of a parsed YAML document, with its path for messages: a missing field fails the test naming where. */
final class YamlNode {
    private final Object value;
    private final String path;

    private YamlNode(Object value, String path) {
        this.value = value;
        this.path = path;
    }

    /** Every document of {@code text} (merge keys resolved); {@code source} names it in messages. */
    static List<YamlNode> documents(String text, String source) {
        List<YamlNode> documents = new ArrayList<>();
        for (Object document : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(text)) {
            if (document != null) {
                documents.add(new YamlNode(document, source + " #" + (documents.size() + 1)));
            }
        }
        return documents;
    }

    /** The single document of {@code text}. */
    static YamlNode document(String text, String source) {
        List<YamlNode> documents = documents(text, source);
        if (documents.size() != 1) {
            fail(source + ": expected one YAML document, found " + documents.size());
        }
        return documents.get(0);
    }

    String path() {
        return path;
    }

    /** The field {@code key}; fails when absent. */
    YamlNode get(String key) {
        return find(key).orElseThrow(() -> new AssertionError(path + ": no field '" + key + "'"));
    }

    /** The field at {@code keys}, one level each; fails when any is absent. */
    YamlNode at(String... keys) {
        YamlNode node = this;
        for (String key : keys) {
            node = node.get(key);
        }
        return node;
    }

    Optional<YamlNode> find(String key) {
        Object child = map().get(key);
        return child == null ? Optional.empty() : Optional.of(new YamlNode(child, path + "." + key));
    }

    boolean has(String key) {
        return value instanceof Map<?, ?> m && m.get(key) != null;
    }

    /** The elements of this list. */
    List<YamlNode> elements() {
        if (!(value instanceof List<?> list)) {
            throw new AssertionError(path + ": expected a list, found " + value);
        }
        List<YamlNode> elements = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            elements.add(new YamlNode(list.get(i), path + "[" + i + "]"));
        }
        return elements;
    }

    /** The field {@code key} as a list; empty when absent. */
    List<YamlNode> list(String key) {
        return find(key).map(YamlNode::elements).orElse(List.of());
    }

    /** This map's fields, in order. */
    Map<String, YamlNode> fields() {
        Map<String, YamlNode> fields = new LinkedHashMap<>();
        map().forEach((k, v) -> fields.put(String.valueOf(k), new YamlNode(v, path + "." + k)));
        return fields;
    }

    /** A scalar as text (numbers and booleans as YAML wrote them). */
    String text() {
        if (value instanceof Map || value instanceof List) {
            throw new AssertionError(path + ": expected a scalar, found " + value);
        }
        return String.valueOf(value);
    }

    int integer() {
        try {
            return Integer.parseInt(text());
        } catch (NumberFormatException e) {
            throw new AssertionError(path + ": expected a number, found " + value);
        }
    }

    /** A list of scalars as text. */
    List<String> texts() {
        return elements().stream().map(YamlNode::text).toList();
    }

    /** The field {@code key} as text, or {@code otherwise} when absent. */
    String text(String key, String otherwise) {
        return find(key).map(YamlNode::text).orElse(otherwise);
    }

    private Map<?, ?> map() {
        if (!(value instanceof Map<?, ?> map)) {
            throw new AssertionError(path + ": expected a mapping, found " + value);
        }
        return map;
    }

    @Override
    public String toString() {
        return path + " = " + value;
    }
}
