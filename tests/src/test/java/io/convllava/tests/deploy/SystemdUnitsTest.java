package io.convllava.tests.deploy;

import io.convllava.cli.LauncherCommandLine;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/systemd: each unit runs the distribution's launcher with a command whose flags and CONVLLAVA_* variables
 * (its Environment= lines, then its environment files, which win as in systemd) exist, as a system user, with
 * libtorch's cache in the unit's cache directory; the roles of one host use distinct ports.
 */
class SystemdUnitsTest {
    private static final String LAUNCHER = "/opt/convllava/bin/convllava";
    private static final String CONFIG_DIR = "/etc/convllava/";

    /** A unit file: its sections' settings, each key with every value it was given, in order. */
    private record Unit(String name, Map<String, Map<String, List<String>>> sections) {
        List<String> all(String section, String key) {
            return sections.getOrDefault(section, Map.of()).getOrDefault(key, List.of());
        }

        String one(String section, String key) {
            List<String> values = all(section, key);
            assertEquals(1, values.size(), name + ": [" + section + "] " + key + " " + values);
            return values.get(0);
        }
    }

    @Test
    void everyUnitRunsAValidCommandOfTheLauncher() throws IOException {
        Set<String> roles = new TreeSet<>();
        List<Integer> ports = new ArrayList<>();
        for (Unit unit : units()) {
            List<String> exec = List.of(unit.one("Service", "ExecStart").split("\\s+"));
            assertEquals(LAUNCHER, exec.get(0), unit.name() + ": the launcher of /opt/convllava (deploy/README.md)");
            LauncherCommandLine command =
                    DeployFiles.parse(unit.name(), exec.subList(1, exec.size()), environment(unit));
            assertEquals("convllava-" + command.name() + ".service", unit.name(), "units are named after their role");
            roles.add(command.name());
            if (command.name().equals("zookeeper")) {
                assertEquals("0.0.0.0", command.value("--bind"), unit.name() + ": reachable from the other hosts");
                assertEquals(command.declaredDefault("--port"), command.value("--port"));
                ports.add(command.intValue("--port"));
            } else {
                ServerRoleChecks.check(unit.name(), command);
                ports.add(command.intValue("--port"));
                ports.add(command.intValue("--metrics-port"));
            }
        }
        assertEquals(Set.of("zookeeper", "vision-node", "llm-node", "coordinator"), roles);
        assertEquals(ports.size(), new TreeSet<>(ports).size(), "the roles of one host need distinct ports: " + ports);
    }

    @Test
    void unitsRunAsASystemUserAndStopCleanly() throws IOException {
        for (Unit unit : units()) {
            assertEquals("convllava", unit.one("Service", "User"), unit.name());
            assertEquals("yes", unit.one("Service", "NoNewPrivileges"), unit.name());
            assertEquals("strict", unit.one("Service", "ProtectSystem"), unit.name());
            // SIGTERM runs the JVM's shutdown hooks (the node leaves the cluster), then it exits 128 + 15
            assertEquals("143", unit.one("Service", "SuccessExitStatus"), unit.name());
            assertEquals("on-failure", unit.one("Service", "Restart"), unit.name());
            assertEquals("multi-user.target", unit.one("Install", "WantedBy"), unit.name());
            Map<String, String> env = environment(unit);
            if (!unit.name().contains("zookeeper")) {
                // ProtectSystem=strict leaves only the unit's own directories writable: libtorch unpacks into one
                String cache = "/var/cache/" + unit.one("Service", "CacheDirectory");
                assertTrue(env.get("DJL_CACHE_DIR").startsWith(cache + "/"), unit.name() + ": " + env);
                assertEquals(env.get("DJL_CACHE_DIR"), env.get("ENGINE_CACHE_DIR"), unit.name());
            }
            assertTrue(env.get("CONVLLAVA_JAVA_OPTS").contains("-Xmx"), unit.name() + ": each role sizes its heap");
        }
        // the shared file must not set what each unit sets for its role
        assertFalse(EnvFile.parse(DeployFiles.read("systemd/convllava.env"), "convllava.env")
                .containsKey("CONVLLAVA_JAVA_OPTS"));
    }

    /**
     * The unit's environment: Environment= lines, then its EnvironmentFile= files (deploy/systemd has the examples of
     * the required ones; a "-" one may be absent), whose settings override Environment= in systemd.
     */
    private static Map<String, String> environment(Unit unit) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : unit.all("Service", "Environment")) {
            Matcher m = Pattern.compile("\"([^\"]*)\"|(\\S+)").matcher(line);
            while (m.find()) {
                String assignment = m.group(1) != null ? m.group(1) : m.group(2);
                int equals = assignment.indexOf('=');
                env.put(assignment.substring(0, equals), assignment.substring(equals + 1));
            }
        }
        for (String file : unit.all("Service", "EnvironmentFile")) {
            if (file.startsWith("-")) {
                continue;
            }
            assertTrue(file.startsWith(CONFIG_DIR), unit.name() + ": " + file);
            String example = "systemd/" + file.substring(CONFIG_DIR.length());
            env.putAll(EnvFile.parse(DeployFiles.read(example), example));
        }
        return env;
    }

    private static List<Unit> units() throws IOException {
        List<Unit> units = new ArrayList<>();
        Path dir = DeployFiles.dir().resolve("systemd");
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.service")) {
            for (Path file : files) {
                units.add(parse(file.getFileName().toString(), Files.readString(file)));
            }
        }
        units.sort((a, b) -> a.name().compareTo(b.name()));
        assertEquals(4, units.size(), units.toString());
        return units;
    }

    /** systemd's unit syntax as these files use it: [Section], Key=value, comments; no line continuations. */
    private static Unit parse(String name, String text) {
        Map<String, Map<String, List<String>>> sections = new TreeMap<>();
        Map<String, List<String>> section = null;
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            assertFalse(line.endsWith("\\"), name + ":" + (i + 1) + ": keep settings on one line");
            if (line.startsWith("[") && line.endsWith("]")) {
                section = sections.computeIfAbsent(line.substring(1, line.length() - 1), s -> new LinkedHashMap<>());
                continue;
            }
            int equals = line.indexOf('=');
            assertTrue(section != null && equals > 0, name + ":" + (i + 1) + ": expected Key=value in a section");
            section.computeIfAbsent(line.substring(0, equals), k -> new ArrayList<>()).add(line.substring(equals + 1));
        }
        return new Unit(name, sections);
    }
}
