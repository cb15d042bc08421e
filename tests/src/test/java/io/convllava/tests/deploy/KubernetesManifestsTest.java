package io.convllava.tests.deploy;

import io.convllava.cli.LauncherCommandLine;
import io.convllava.common.transport.GrpcServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * deploy/kubernetes: every convllava container's command and CONVLLAVA_* variables are flags of its command (the
 * launcher's own parser), its ports, probes, Services, PodDisruptionBudget, TLS and credential mounts and Prometheus
 * annotations agree with them and with the code, and the ZooKeeper ensemble matches the connect string. The base is
 * checked as written; the overlays' patches as written, and all three as {@code kubectl kustomize} renders them
 * where kubectl is installed (it needs no cluster for that).
 */
class KubernetesManifestsTest {
    private static final Path DIR = DeployFiles.dir().resolve("kubernetes");
    private static final String IMAGE = "convllava";
    private static final List<String> FILE_FLAGS = List.of("--tls-cert", "--tls-key", "--tls-ca", "--zk-auth-file",
            "--token-file", "--hf-cache", "--model");

    @Test
    void baseAsWritten() {
        KubernetesObjects base = KubernetesObjects.ofKustomization(DIR.resolve("base"));
        Set<String> roles = checkCluster(base, "base");
        assertEquals(ServerRoleChecks.SERVER_ROLES, roles);
        assertTrue(base.find("StatefulSet", "zookeeper").isPresent(), "the base brings its ZooKeeper ensemble");
        YamlNode kustomization = KubernetesObjects.kustomization(DIR.resolve("base"));
        YamlNode image = kustomization.list("images").get(0);
        assertEquals(IMAGE, image.get("name").text());
        assertTrue(DeployFiles.read("container/Dockerfile").contains("-t convllava:" + image.get("newTag").text()
                + " ."), "the base runs the tag the Dockerfile's build command makes");
    }

    @Test
    void gpuOverlayPutsVisionAndLlmNodesOnOneGpuEach() {
        YamlNode kustomization = KubernetesObjects.kustomization(DIR.resolve("gpu"));
        assertTrue(kustomization.list("resources").stream().map(YamlNode::text).toList().contains("../base"));
        String tag = kustomization.list("images").get(0).get("newTag").text();
        assertTrue(DeployFiles.read("container/Dockerfile").contains("--target cuda -t convllava:" + tag + " ."),
                "the GPU overlay runs the image of the Dockerfile's cuda target: " + tag);

        KubernetesObjects base = KubernetesObjects.ofKustomization(DIR.resolve("base"));
        List<YamlNode> patches =
                YamlNode.documents(DeployFiles.read("kubernetes/gpu/gpu-nodes.yaml"), "gpu-nodes.yaml");
        Set<String> onGpu = new TreeSet<>();
        for (YamlNode patch : patches) {
            YamlNode container = patch.at("spec", "template", "spec").list("containers").get(0);
            PodContainer written = PodContainer.of(base, base.get("StatefulSet", KubernetesObjects.name(patch))).get(0);
            assertEquals(written.name(), container.get("name").text());
            // the base container's command with the patch's variables on top
            Map<String, String> env = new LinkedHashMap<>(written.env);
            container.list("env").forEach(v -> env.put(v.get("name").text(), v.get("value").text()));
            LauncherCommandLine command = DeployFiles.parse("gpu overlay, " + written.where, written.args, env);
            assertEquals("gpu", command.value("--device"), written.where);
            assertEquals(1, container.at("resources", "limits", "nvidia.com/gpu").integer(), written.where);
            onGpu.add(command.name());
        }
        assertEquals(Set.of("vision-node", "llm-node"), onGpu);
    }

    @Test
    void externalZooKeeperOverlayDeletesTheEnsembleAndNamesAnother() {
        YamlNode kustomization = KubernetesObjects.kustomization(DIR.resolve("external-zookeeper"));
        Set<String> deleted = new TreeSet<>();
        for (YamlNode patch : kustomization.list("patches")) {
            if (patch.has("patch")) {
                YamlNode body = YamlNode.document(patch.get("patch").text(), patch.path());
                assertEquals("delete", body.get("$patch").text(), patch.path());
                deleted.add(KubernetesObjects.kind(body) + "/" + KubernetesObjects.name(body));
            }
        }
        Set<String> ensemble = new TreeSet<>();
        String zookeeper = DeployFiles.read("kubernetes/base/zookeeper.yaml");
        for (YamlNode object : YamlNode.documents(zookeeper, "zookeeper.yaml")) {
            ensemble.add(KubernetesObjects.kind(object) + "/" + KubernetesObjects.name(object));
        }
        assertEquals(ensemble, deleted, "everything of base/zookeeper.yaml goes");
        YamlNode connect = YamlNode.document(DeployFiles.read("kubernetes/external-zookeeper/zookeeper-connect.yaml"),
                "zookeeper-connect.yaml");
        assertEquals("convllava", KubernetesObjects.name(connect), "the patch sets the ConfigMap every role reads");
        assertFalse(connect.at("data", "CONVLLAVA_ZK").text().contains("zookeeper-headless"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "gpu", "external-zookeeper"})
    void renderedByKubectlKustomize(String overlay) throws Exception {
        Optional<Path> kubectl = onPath("kubectl");
        assumeTrue(kubectl.isPresent(), "kubectl is not installed: the checks of the files as written stand alone");
        Process process = new ProcessBuilder(kubectl.get().toString(), "kustomize", DIR.resolve(overlay).toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize did not finish");
        assertEquals(0, process.exitValue(), output);
        KubernetesObjects rendered = KubernetesObjects.rendered(output, "kubectl kustomize " + overlay);
        assertEquals(ServerRoleChecks.SERVER_ROLES, checkCluster(rendered, overlay));
        assertEquals(!overlay.equals("external-zookeeper"), rendered.find("StatefulSet", "zookeeper").isPresent());
        if (overlay.equals("gpu")) {
            for (String role : List.of("vision-node", "llm-node")) {
                PodContainer node = PodContainer.of(rendered, rendered.get("StatefulSet", role)).get(0);
                assertEquals("gpu", node.env.get("CONVLLAVA_DEVICE"), node.where);
                assertEquals(1, node.container.at("resources", "limits", "nvidia.com/gpu").integer(), node.where);
                assertTrue(node.image().endsWith("-cuda"), node.image());
            }
            YamlNode claim = rendered.get("PersistentVolumeClaim", "convllava-models");
            assertEquals(List.of("ReadWriteMany"), claim.at("spec", "accessModes").texts());
            for (String role : ServerRoleChecks.SERVER_ROLES) {
                PodContainer server = PodContainer.of(rendered, rendered.get("StatefulSet", role)).get(0);
                YamlNode models = server.volumeHolding(server.env.get("CONVLLAVA_HF_CACHE") + "/x").orElseThrow();
                assertEquals("convllava-models", models.at("persistentVolumeClaim", "claimName").text());
                assertEquals("true", models.at("persistentVolumeClaim", "readOnly").text(), server.where);
            }
        }
    }

    /** Every check of a whole cluster's objects; returns the convllava roles it runs. */
    private static Set<String> checkCluster(KubernetesObjects objects, String source) {
        Set<String> roles = new TreeSet<>();
        List<YamlNode> workloads = new ArrayList<>(objects.all("StatefulSet"));
        workloads.addAll(objects.all("Deployment"));
        for (YamlNode workload : workloads) {
            checkDisruptionBudget(objects, workload);
            for (PodContainer container : PodContainer.of(objects, workload)) {
                if (container.image().equals(IMAGE) || container.image().startsWith(IMAGE + ":")) {
                    roles.add(checkServer(objects, container, source));
                }
            }
        }
        checkServices(objects, workloads);
        objects.find("StatefulSet", "zookeeper").ifPresent(zk -> checkEnsemble(objects, zk));
        return roles;
    }

    private static String checkServer(KubernetesObjects objects, PodContainer container, String source) {
        String where = source + ": " + container.where;
        LauncherCommandLine command = DeployFiles.parse(where, container.args, container.env);
        String role = command.name();
        ServerRoleChecks.check(where, command);
        assertEquals(role, container.name(), where + ": the container is named after its role");

        int grpc = command.intValue("--port");
        assertEquals(Optional.of(grpc), container.port("grpc"), where + ": containerPort grpc");
        int metrics = command.intValue("--metrics-port");
        assertEquals(Optional.of(metrics), container.port("metrics"), where + ": containerPort metrics");
        YamlNode annotations = container.workload.at("spec", "template", "metadata", "annotations");
        assertEquals("true", annotations.get("prometheus.io/scrape").text(), where);
        assertEquals(String.valueOf(metrics), annotations.get("prometheus.io/port").text(), where);
        assertEquals("/metrics", annotations.get("prometheus.io/path").text(), where);

        // probes: the gRPC health service on the gRPC port, through the image's script (mutual TLS)
        List<String> liveness = List.of("convllava-health", String.valueOf(grpc), GrpcServer.LIVENESS);
        assertEquals(liveness, container.container.at("livenessProbe", "exec", "command").texts(), where);
        assertEquals(liveness, container.container.at("startupProbe", "exec", "command").texts(), where);
        assertEquals(List.of("convllava-health", String.valueOf(grpc)),
                container.container.at("readinessProbe", "exec", "command").texts(),
                where + ": readiness is the default service \"\" on the gRPC port");

        // the script calls CONVLLAVA_HOST: the address the server binds must come from there, and be the pod's name
        assertFalse(container.args.contains("--host"),
                where + ": give --host as CONVLLAVA_HOST, which the probe reads");
        String serviceName = container.workload.at("spec", "serviceName").text();
        assertEquals(container.podName() + "." + serviceName + "." + objects.namespace() + ".svc."
                + container.env.get("CLUSTER_DOMAIN"), command.value("--host"), where + ": --host is the pod's name");
        YamlNode governing = objects.get("Service", serviceName);
        assertEquals("None", governing.at("spec", "clusterIP").text(), where + ": " + serviceName + " is headless");
        assertEquals("true", governing.at("spec", "publishNotReadyAddresses").text(),
                where + ": a pod's name must resolve before it is ready, for it binds it");
        assertTrue(DeployFiles.read("README.md").contains("*." + serviceName + "." + objects.namespace() + ".svc."
                + container.env.get("CLUSTER_DOMAIN")),
                where + ": deploy/README.md's certificate must name the pods of " + serviceName);

        assertEquals("false", container.pod.get("enableServiceLinks").text(),
                where + ": Service variables (a Service named convllava would make CONVLLAVA_PORT) must stay out");
        YamlNode security = container.pod.get("securityContext");
        assertEquals("true", security.get("runAsNonRoot").text(), where);
        assertTrue(security.get("runAsUser").integer() > 0, where);
        assertEquals("true", container.container.at("securityContext", "readOnlyRootFilesystem").text(), where);
        assertEquals("emptyDir", container.volumeHolding("/tmp/x").map(v -> v.has("emptyDir") ? "emptyDir" : "")
                .orElse("none"), where + ": a writable /tmp on a read-only root");

        for (String flag : FILE_FLAGS) {
            String file = command.flags().contains(flag) ? command.value(flag) : null;
            if (file == null || !file.startsWith("/") || file.startsWith("/opt/convllava/")) {
                continue; // unset, a hub id, or inside the image
            }
            YamlNode volume = container.volumeHolding(file).orElseThrow(
                    () -> new AssertionError(where + ": " + flag + " " + file + " is on no mounted volume"));
            if (volume.has("secret")) {
                String secret = volume.at("secret", "secretName").text();
                String key = Path.of(file).getFileName().toString();
                assertTrue(secretKeys(secret).contains(key), where + ": " + flag + " reads key " + key + " of secret "
                        + secret + ", which deploy/README.md does not create (" + secretKeys(secret) + ")");
            }
        }
        return role;
    }

    /** The Service ports reach named container ports of the pods they select. */
    private static void checkServices(KubernetesObjects objects, List<YamlNode> workloads) {
        for (YamlNode service : objects.all("Service")) {
            YamlNode selector = service.at("spec", "selector");
            List<YamlNode> selected = workloads.stream().filter(w -> KubernetesObjects.selects(selector,
                    w.at("spec", "template", "metadata", "labels"))).toList();
            assertEquals(1, selected.size(), service.path() + ": selects one workload's pods");
            for (YamlNode port : service.at("spec", "ports").elements()) {
                String target = port.get("targetPort").text();
                boolean found = false;
                for (YamlNode container : selected.get(0).at("spec", "template", "spec").list("containers")) {
                    for (YamlNode containerPort : container.list("ports")) {
                        found |= containerPort.get("name").text().equals(target)
                                && containerPort.get("containerPort").integer() == port.get("port").integer();
                    }
                }
                assertTrue(found, port.path() + ": no container port " + target + " = " + port.get("port").text());
            }
        }
        YamlNode coordinator = objects.get("Service", "coordinator");
        assertFalse(coordinator.at("spec").has("clusterIP"), "the coordinators' Service balances calls");
        assertEquals(DeployFiles.defaultGrpcPort("coordinator"), coordinator.at("spec", "ports").elements().get(0)
                .get("port").integer());
    }

    /** One PodDisruptionBudget per workload that lets one pod go at a time. */
    private static void checkDisruptionBudget(KubernetesObjects objects, YamlNode workload) {
        YamlNode labels = workload.at("spec", "template", "metadata", "labels");
        List<YamlNode> budgets = objects.all("PodDisruptionBudget").stream()
                .filter(b -> KubernetesObjects.selects(b.at("spec", "selector", "matchLabels"), labels)).toList();
        assertEquals(1, budgets.size(), workload.path() + ": PodDisruptionBudgets covering its pods");
        YamlNode spec = budgets.get(0).get("spec");
        assertEquals(1, spec.get("maxUnavailable").integer(), budgets.get(0).path());
        assertTrue(workload.at("spec", "replicas").integer() >= 2,
                workload.path() + ": with one replica, a budget of one either blocks every drain or protects nothing");
    }

    /** The connect string names each server of the ensemble at its client port; ZOO_SERVERS lists the same. */
    private static void checkEnsemble(KubernetesObjects objects, YamlNode zookeeper) {
        PodContainer server = PodContainer.of(objects, zookeeper).get(0);
        String service = zookeeper.at("spec", "serviceName").text();
        int replicas = zookeeper.at("spec", "replicas").integer();
        assertEquals(3, replicas, "an ensemble that survives one server down");
        int client = server.port("client").orElseThrow();
        Set<String> connect = new HashSet<>(List.of(objects.configMap("convllava").get("CONVLLAVA_ZK").split(",")));
        Set<String> expected = new HashSet<>();
        String servers = server.env.get("ZOO_SERVERS");
        for (int i = 0; i < replicas; i++) {
            String host = "zookeeper-" + i + "." + service;
            expected.add(host + ":" + client);
            String line = "server." + (i + 1) + "=" + host + ":" + server.port("follower").orElseThrow() + ":"
                    + server.port("election").orElseThrow() + ";" + client;
            assertTrue(List.of(servers.split("\\s+")).contains(line), line + " missing from ZOO_SERVERS " + servers);
        }
        assertEquals(expected, connect, "CONVLLAVA_ZK");
        // server N+1 on pod zookeeper-N, as ZOO_SERVERS numbers them
        assertTrue(String.join(" ", server.args).contains("ZOO_MY_ID=$((${HOSTNAME##*-} + 1))"),
                server.args.toString());
    }

    /** The keys deploy/README.md's {@code kubectl create secret generic NAME --from-file=KEY=...} give a secret. */
    private static Set<String> secretKeys(String secret) {
        String readme = DeployFiles.read("README.md").replace("\\\n", " ");
        Set<String> keys = new TreeSet<>();
        Matcher command = Pattern.compile("create secret generic " + Pattern.quote(secret) + " ([^\\n]*)")
                .matcher(readme);
        while (command.find()) {
            Matcher file = Pattern.compile("--from-file=([^=\\s]+)=").matcher(command.group(1));
            while (file.find()) {
                keys.add(file.group(1));
            }
        }
        return keys;
    }

    private static Optional<Path> onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
