package io.convllava.tests.deploy;

import io.convllava.cli.LauncherCommandLine;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * deploy/compose: each host runs compose.yaml with its .env (.env.example here): the ${...} are filled as Compose
 * fills them, each convllava service's command and CONVLLAVA_* variables are flags of its command, its health check
 * asks its gRPC port, its files are on its volumes, and the roles sharing a host's network use distinct ports.
 * (`docker compose config` needs the Compose plugin, which is not installed here: this parse is the check.)
 */
class ComposeFileTest {
    private static final Pattern VARIABLE =
            Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}");
    private static final Map<String, String> DOT_ENV = EnvFile.parse(DeployFiles.read("compose/.env.example"),
            "compose/.env.example");
    private static final YamlNode COMPOSE = YamlNode.document(DeployFiles.read("compose/compose.yaml"), "compose.yaml");

    @Test
    void everyConvllavaServiceRunsItsRoleWithTheClustersSettings() {
        Set<String> roles = new TreeSet<>();
        for (Map.Entry<String, YamlNode> service : services().entrySet()) {
            String where = "compose.yaml, service " + service.getKey();
            YamlNode spec = service.getValue();
            if (!fill(spec.get("image").text()).startsWith("convllava:")) {
                continue;
            }
            assertEquals("host", spec.get("network_mode").text(),
                    where + ": nodes bind and advertise this host's address, CONVLLAVA_HOST");
            Map<String, String> env = environment(spec);
            List<String> command = spec.get("command").texts().stream().map(ComposeFileTest::fill).toList();
            LauncherCommandLine parsed = DeployFiles.parse(where, command, env);
            ServerRoleChecks.check(where, parsed);
            assertEquals(parsed.name(), service.getKey(), where + ": the service is named after its role");
            roles.add(parsed.name());

            // the health check asks the gRPC port at the address the server binds (CONVLLAVA_HOST, not --host)
            assertEquals(List.of("CMD", "convllava-health", String.valueOf(parsed.intValue("--port"))),
                    spec.at("healthcheck", "test").texts(), where + ": readiness of the gRPC port");
            assertFalse(command.contains("--host"), where);
            assertTrue(env.containsKey("CONVLLAVA_HOST"), where);

            List<String> mounts = new ArrayList<>();
            for (YamlNode volume : spec.list("volumes")) {
                String[] parts = fill(volume.text()).split(":");
                assertEquals("ro", parts[parts.length - 1], where + ": " + volume.text() + " is mounted read-only");
                mounts.add(parts[1]);
            }
            for (String flag : List.of("--tls-cert", "--tls-key", "--tls-ca", "--zk-auth-file", "--token-file",
                    "--hf-cache")) {
                String file = parsed.flags().contains(flag) ? parsed.value(flag) : null;
                if (file != null) {
                    assertTrue(mounts.stream().anyMatch(m -> file.startsWith(m + "/")),
                            where + ": " + flag + " " + file + " is on none of its volumes " + mounts);
                }
            }
            assertEquals("true", spec.get("read_only").text(), where + ": libtorch was unpacked into the image");
            assertEquals(1, spec.list("profiles").size(), where + ": one profile per role, chosen per host");
        }
        assertEquals(ServerRoleChecks.SERVER_ROLES, roles);
    }

    @Test
    void rolesSharingAHostsNetworkUseDistinctPorts() {
        List<Integer> ports = new ArrayList<>();
        for (Map.Entry<String, YamlNode> service : services().entrySet()) {
            YamlNode spec = service.getValue();
            if (fill(spec.get("image").text()).startsWith("convllava:")) {
                LauncherCommandLine parsed = DeployFiles.parse(service.getKey(),
                        spec.get("command").texts().stream().map(ComposeFileTest::fill).toList(), environment(spec));
                ports.add(parsed.intValue("--port"));
                ports.add(parsed.intValue("--metrics-port"));
            }
        }
        ports.add(zooKeeperClientPort());
        assertEquals(ports.size(), new TreeSet<>(ports).size(), "ports of one host: " + ports);
    }

    @Test
    void zooKeeperServersAreTheOnesTheNodesConnectTo() {
        YamlNode zookeeper = services().get("zookeeper");
        assertEquals(List.of("zookeeper"), zookeeper.list("profiles").stream().map(YamlNode::text).toList());
        Set<String> servers = new TreeSet<>();
        for (String server : fill(zookeeper.at("environment", "ZOO_SERVERS").text()).split("\\s+")) {
            Matcher m = Pattern.compile("server\\.\\d+=([^:]+):\\d+:\\d+;(\\d+)").matcher(server);
            assertTrue(m.matches(), server);
            servers.add(m.group(1) + ":" + m.group(2));
        }
        assertEquals(new TreeSet<>(List.of(DOT_ENV.get("CONVLLAVA_ZK").split(","))), servers,
                ".env.example: CONVLLAVA_ZK and ZOO_SERVERS name the same servers");
    }

    @Test
    void gpuOverrideReservesAGpuForVisionAndLlmNodes() {
        YamlNode gpu = YamlNode.document(DeployFiles.read("compose/compose.gpu.yaml"), "compose.gpu.yaml");
        Set<String> onGpu = new TreeSet<>();
        for (Map.Entry<String, YamlNode> service : gpu.get("services").fields().entrySet()) {
            YamlNode base = services().get(service.getKey());
            assertTrue(base != null, "compose.gpu.yaml overrides " + service.getKey() + ", which compose.yaml lacks");
            Map<String, String> env = environment(base);
            service.getValue().get("environment").fields().forEach((k, v) -> env.put(k, fill(v.text())));
            LauncherCommandLine parsed = DeployFiles.parse("compose.gpu.yaml, " + service.getKey(),
                    base.get("command").texts().stream().map(ComposeFileTest::fill).toList(), env);
            assertEquals("gpu", parsed.value("--device"));
            YamlNode device = service.getValue().at("deploy", "resources", "reservations", "devices").elements().get(0);
            assertEquals("nvidia", device.get("driver").text());
            assertEquals(List.of("gpu"), device.get("capabilities").texts());
            String image = fill(service.getValue().get("image").text());
            assertTrue(DeployFiles.read("container/Dockerfile").contains("--target cuda -t " + image + " ."), image);
            onGpu.add(parsed.name());
        }
        assertEquals(Set.of("vision-node", "llm-node"), onGpu);
    }

    @Test
    void envExampleSetsEveryRequiredVariableAndExistingProfiles() {
        Set<String> profiles = new TreeSet<>();
        services().values().forEach(s -> s.list("profiles").forEach(p -> profiles.add(p.text())));
        assertTrue(profiles.containsAll(List.of(DOT_ENV.get("COMPOSE_PROFILES").split(","))),
                DOT_ENV.get("COMPOSE_PROFILES") + " of " + profiles);
        // every ${NAME} without a default must be set: fill() fails on one that is not
        fill(DeployFiles.read("compose/compose.yaml"));
        fill(DeployFiles.read("compose/compose.gpu.yaml"));
    }

    private static Map<String, YamlNode> services() {
        return COMPOSE.get("services").fields();
    }

    private static Map<String, String> environment(YamlNode service) {
        Map<String, String> env = new LinkedHashMap<>();
        service.get("environment").fields().forEach((k, v) -> env.put(k, fill(v.text())));
        return env;
    }

    private static int zooKeeperClientPort() {
        String servers = fill(services().get("zookeeper").at("environment", "ZOO_SERVERS").text());
        return Integer.parseInt(servers.split("\\s+")[0].replaceAll(".*;", ""));
    }

    /** Compose's interpolation with the variables of .env.example: ${X}, ${X:-default}, ${X:?error}, $$. */
    private static String fill(String text) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value;
            if (m.group(1) == null) {
                value = "$";
            } else {
                String set = DOT_ENV.get(m.group(1));
                boolean empty = set == null || (set.isEmpty() && m.group(2) != null && m.group(2).startsWith(":"));
                if (!empty) {
                    value = set;
                } else if (m.group(2) != null && m.group(2).endsWith("-")) {
                    value = m.group(3);
                } else {
                    fail("${" + m.group(1) + "} is neither set in .env.example nor given a default");
                    return text;
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
