package io.convllava.tests.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Kubernetes objects of a kustomization's resource files, or of {@code kubectl kustomize}'s output. */
final class KubernetesObjects {
    private final List<YamlNode> objects;
    private final String namespace;

    private KubernetesObjects(List<YamlNode> objects, String namespace) {
        this.objects = objects;
        this.namespace = namespace;
    }

    /**
     * The resources a kustomization directory lists, as written (no patches applied); every other YAML file of the
     * directory must be listed, so that none is forgotten.
     */
    static KubernetesObjects ofKustomization(Path dir) {
        YamlNode kustomization = kustomization(dir);
        List<String> resources = kustomization.list("resources").stream().map(YamlNode::text).toList();
        Set<String> files = new TreeSet<>();
        try (DirectoryStream<Path> yaml = Files.newDirectoryStream(dir, "*.yaml")) {
            yaml.forEach(f -> files.add(f.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        files.remove("kustomization.yaml");
        assertEquals(files, new TreeSet<>(resources), dir + ": its YAML files and its kustomization's resources");
        List<YamlNode> objects = new ArrayList<>();
        for (String resource : resources) {
            objects.addAll(YamlNode.documents(read(dir.resolve(resource)), dir.getFileName() + "/" + resource));
        }
        return new KubernetesObjects(objects, kustomization.get("namespace").text());
    }

    /** Rendered objects (kubectl kustomize): each carries its namespace. */
    static KubernetesObjects rendered(String yaml, String source) {
        List<YamlNode> objects = YamlNode.documents(yaml, source);
        Set<String> namespaces = new TreeSet<>();
        for (YamlNode object : objects) {
            if (!kind(object).equals("Namespace")) {
                namespaces.add(object.at("metadata", "namespace").text());
            }
        }
        assertEquals(1, namespaces.size(), source + ": one namespace for everything, found " + namespaces);
        return new KubernetesObjects(objects, namespaces.iterator().next());
    }

    static YamlNode kustomization(Path dir) {
        return YamlNode.document(read(dir.resolve("kustomization.yaml")), dir.getFileName() + "/kustomization.yaml");
    }

    String namespace() {
        return namespace;
    }

    List<YamlNode> all(String kind) {
        return objects.stream().filter(o -> kind(o).equals(kind)).toList();
    }

    Optional<YamlNode> find(String kind, String name) {
        return all(kind).stream().filter(o -> name(o).equals(name)).findFirst();
    }

    YamlNode get(String kind, String name) {
        return find(kind, name).orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    /** The data of ConfigMap {@code name}. */
    Map<String, String> configMap(String name) {
        Map<String, String> data = new LinkedHashMap<>();
        get("ConfigMap", name).get("data").fields().forEach((k, v) -> data.put(k, v.text()));
        return data;
    }

    static String kind(YamlNode object) {
        return object.get("kind").text();
    }

    static String name(YamlNode object) {
        return object.at("metadata", "name").text();
    }

    /** Whether {@code selector}'s labels are all among {@code labels}. */
    static boolean selects(YamlNode selector, YamlNode labels) {
        Map<String, YamlNode> have = labels.fields();
        return selector.fields().entrySet().stream()
                .allMatch(e -> have.containsKey(e.getKey()) && have.get(e.getKey()).text().equals(e.getValue().text()));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
