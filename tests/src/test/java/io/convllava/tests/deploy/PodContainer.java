package io.convllava.tests.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A container of a workload's pod template with its environment and arguments as the kubelet makes them: variables of
 * {@code envFrom} ConfigMaps first, then {@code env} in order, {@code $(NAME)} replaced by a variable defined before it
 * ({@code $$} is a literal {@code $}). A reference to an undefined variable fails: Kubernetes would pass it on as
 * text. Downward-API fields stand for the first pod of the workload (pod name NAME-0).
 */
final class PodContainer {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\$|\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    final String where;
    final YamlNode workload;
    final YamlNode pod;
    final YamlNode container;
    final Map<String, String> env;
    final List<String> args;

    private PodContainer(String where, YamlNode workload, YamlNode container, Map<String, String> env,
                         List<String> args) {
        this.where = where;
        this.workload = workload;
        this.pod = workload.at("spec", "template", "spec");
        this.container = container;
        this.env = env;
        this.args = args;
    }

    static List<PodContainer> of(KubernetesObjects objects, YamlNode workload) {
        List<PodContainer> containers = new ArrayList<>();
        for (YamlNode container : workload.at("spec", "template", "spec").list("containers")) {
            String where = KubernetesObjects.kind(workload) + " " + KubernetesObjects.name(workload) + ", container "
                    + container.get("name").text();
            Map<String, String> env = new LinkedHashMap<>();
            for (YamlNode from : container.list("envFrom")) {
                env.putAll(objects.configMap(from.at("configMapRef", "name").text()));
            }
            for (YamlNode variable : container.list("env")) {
                env.put(variable.get("name").text(), value(objects, workload, variable, env, where));
            }
            List<String> args = new ArrayList<>();
            for (YamlNode arg : container.list("args")) {
                args.add(expand(arg.text(), env, where));
            }
            containers.add(new PodContainer(where, workload, container, env, args));
        }
        return containers;
    }

    String name() {
        return container.get("name").text();
    }

    String image() {
        return container.get("image").text();
    }

    /** The containerPort named {@code name}. */
    Optional<Integer> port(String name) {
        return container.list("ports").stream().filter(p -> p.text("name", "").equals(name))
                .map(p -> p.get("containerPort").integer()).findFirst();
    }

    /** The mount whose folder holds {@code file}, and the volume behind it. */
    Optional<YamlNode> volumeHolding(String file) {
        for (YamlNode mount : container.list("volumeMounts")) {
            String dir = mount.get("mountPath").text();
            if (file.startsWith(dir.endsWith("/") ? dir : dir + "/")) {
                String volume = mount.get("name").text();
                return pod.list("volumes").stream().filter(v -> v.get("name").text().equals(volume)).findFirst()
                        .or(() -> {
                            throw new AssertionError(where + ": mount of an undeclared volume " + volume);
                        });
            }
        }
        return Optional.empty();
    }

    /** The pod's name: a StatefulSet's first pod. */
    String podName() {
        return KubernetesObjects.name(workload) + "-0";
    }

    private static String value(KubernetesObjects objects, YamlNode workload, YamlNode variable,
                                Map<String, String> env, String where) {
        if (variable.has("value")) {
            return expand(variable.get("value").text(), env, where);
        }
        YamlNode from = variable.get("valueFrom");
        if (from.has("fieldRef")) {
            String field = from.at("fieldRef", "fieldPath").text();
            return switch (field) {
                case "metadata.name" -> KubernetesObjects.name(workload) + "-0";
                case "metadata.namespace" -> objects.namespace();
                default -> "<" + field + ">";
            };
        }
        if (from.has("configMapKeyRef")) {
            YamlNode ref = from.get("configMapKeyRef");
            return objects.configMap(ref.get("name").text()).get(ref.get("key").text());
        }
        return "<" + from.fields().keySet() + ">";
    }

    private static String expand(String text, Map<String, String> env, String where) {
        Matcher m = REFERENCE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement;
            if (m.group(1) == null) {
                replacement = "$";
            } else if (env.containsKey(m.group(1))) {
                replacement = env.get(m.group(1));
            } else {
                fail(where + ": $(" + m.group(1) + ") in '" + text + "' names no variable defined before it");
                return text;
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }
}
