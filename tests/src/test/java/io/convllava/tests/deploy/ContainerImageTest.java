package io.convllava.tests.deploy;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.convllava.cli.LauncherCommandLine;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.GrpcServer;
import io.convllava.tests.deploy.Dockerfile.Instruction;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/container/Dockerfile, read as Docker would (no Docker engine here to build it): stages, what the build stage
 * copies and runs, the non-root runtime with the distribution and its launcher, libtorch unpacked at build time by a
 * bundled sample checked against its golden answer, the ports, and the health-check script it installs.
 */
class ContainerImageTest {
    private static final Dockerfile IMAGE = Dockerfile.parse(DeployFiles.read("container/Dockerfile"));
    private static final String DISTRIBUTION = "/opt/convllava";

    @Test
    void stagesBuildTheDistributionThenRunItWithoutMaven() {
        List<String> names = IMAGE.stages().stream().map(Dockerfile.Stage::name).toList();
        assertEquals(List.of("build", "health-probe", "base", "libtorch-cuda", "cuda", "runtime"), names);
        // the last stage is what `docker build` makes without --target: the CPU image
        assertEquals("base", IMAGE.stages().get(names.indexOf("runtime")).from());
        assertEquals("base", IMAGE.stages().get(names.indexOf("cuda")).from());
        for (Dockerfile.Stage stage : IMAGE.stages()) {
            String image = stage.from().startsWith("${")
                    ? IMAGE.argDefault(stage.from().replaceAll("[${}]", ""), null).orElseThrow() : stage.from();
            assertTrue(names.contains(image) || image.matches("[^:]+:[0-9][^:]*"),
                    "stage " + stage.name() + " starts from " + image + ": give the image a version tag");
        }
    }

    @Test
    void buildStageCopiesEveryModuleAndPackagesTheDeployModule() throws IOException {
        Set<String> copied = new TreeSet<>();
        for (Instruction copy : IMAGE.all("COPY", "build")) {
            List<String> words = copy.words();
            copied.addAll(words.subList(0, words.size() - 1));
        }
        String rootPom = Files.readString(Fixtures.projectRoot().resolve("pom.xml"));
        Matcher module = Pattern.compile("<module>([^<]+)</module>").matcher(rootPom);
        while (module.find()) {
            // Maven reads every module's pom; the tests module is not built, so its pom is enough
            String needed = module.group(1).equals("tests") ? "tests/pom.xml" : module.group(1);
            assertTrue(copied.contains(needed), "the build stage does not copy " + needed + ": " + copied);
        }
        // what the archive takes from the root (deploy/src/assembly/dist.xml)
        assertTrue(copied.containsAll(List.of("pom.xml", "README.md", "models/convllava-shapes")), copied.toString());
        for (String path : copied) {
            assertTrue(Files.exists(Fixtures.projectRoot().resolve(path)), "COPY of a missing path " + path);
        }
        String build = String.join("\n", IMAGE.all("RUN", "build").stream().map(Instruction::arguments).toList());
        assertTrue(build.contains("mvn -B -DskipTests package -pl deploy -am"), build);
        assertTrue(build.contains("tar -xzf deploy/target/convllava-*.tar.gz --strip-components=1 -C " + DISTRIBUTION),
                "the image holds the operators' archive, unpacked: " + build);
        String ignored = DeployFiles.read("container/Dockerfile.dockerignore");
        assertTrue(ignored.lines().anyMatch("**/target"::equals), "build outputs stay out of the context");
    }

    @Test
    void runtimeIsTheDistributionAsANonRootUserWithTheLauncherAsEntrypoint() {
        Instruction copy = IMAGE.all("COPY", "base").get(0);
        assertEquals("build", copy.flag("from").orElseThrow());
        assertEquals(List.of("--from=build", DISTRIBUTION, DISTRIBUTION), copy.words());

        List<Instruction> users = IMAGE.all("USER", "base");
        assertEquals(1, users.size(), "one USER, after the root-only steps");
        String user = users.get(0).arguments().split(":")[0];
        assertTrue(user.matches("[0-9]+") && !user.equals("0"),
                "a numeric non-root user, which Kubernetes' runAsNonRoot can verify: " + user);
        assertTrue(IMAGE.all("RUN", "base").get(0).arguments().contains("--uid " + user),
                "the user is created with uid " + user);
        for (String stage : List.of("cuda", "runtime")) {
            assertTrue(IMAGE.all("USER", stage).isEmpty(), stage + " keeps the non-root user");
        }

        // bin/convllava of the archive (deploy/src/assembly/dist.xml puts src/dist/bin under bin/)
        assertTrue(DeployFiles.launcherScript().startsWith("#!/usr/bin/env bash"));
        assertEquals(List.of(DISTRIBUTION + "/bin/convllava"), IMAGE.all("ENTRYPOINT", "base").get(0).words());
    }

    @Test
    void libtorchIsUnpackedAtBuildTimeByABundledSampleWithItsGoldenAnswer() throws IOException {
        Map<String, String> env = env("base");
        assertEquals(DISTRIBUTION + "/cache/djl", env.get("DJL_CACHE_DIR"));
        assertEquals(env.get("DJL_CACHE_DIR"), env.get("ENGINE_CACHE_DIR"));
        assertEquals(DISTRIBUTION, env.get("CONVLLAVA_HOME"));

        String warmUp = IMAGE.all("RUN", "base").stream().map(Instruction::arguments)
                .filter(r -> r.contains("convllava generate")).findFirst().orElseThrow(
                        () -> new AssertionError("no RUN unpacks libtorch (convllava generate) in the base stage"));
        List<String> args = shellWords(warmUp.substring(warmUp.indexOf("convllava generate") + "convllava ".length(),
                warmUp.indexOf(")\"")));
        LauncherCommandLine generate = DeployFiles.parse("Dockerfile warm-up", args, env);
        assertEquals("generate", generate.name());
        String model = generate.value("--model");
        assertTrue(model.startsWith(DISTRIBUTION + "/models/convllava-shapes"), model);

        // the answer it insists on is the reference answer of that image and question
        Path shapes = Fixtures.shapesModel();
        String image = Path.of(DISTRIBUTION + "/models/convllava-shapes").relativize(Path.of(generate.value("--image")))
                .toString();
        JsonObject sample = null;
        for (JsonElement e : JsonParser.parseString(Files.readString(shapes.resolve("samples.json"))).getAsJsonObject()
                .getAsJsonArray("samples")) {
            if (e.getAsJsonObject().get("image").getAsString().equals(image)) {
                sample = e.getAsJsonObject();
            }
        }
        assertTrue(sample != null, image + " is not a sample of samples.json");
        assertEquals(sample.get("question").getAsString(), generate.value("--prompt"));
        String answer = sample.get("reference_answer").getAsString();
        assertTrue(warmUp.contains("*" + answer + "*)"), "the warm-up must insist on '" + answer + "': " + warmUp);
        // DJL makes its cache folders private to the user that ran it (root, here)
        assertTrue(warmUp.contains("chmod -R a+rX,go-w " + env.get("DJL_CACHE_DIR")), warmUp);
    }

    @Test
    void exposesTheCodesDefaultPortsAndTheDeploymentsMetricsPorts() {
        Set<Integer> exposed = new TreeSet<>();
        for (Instruction expose : IMAGE.all("EXPOSE", "base")) {
            Arrays.stream(expose.arguments().split("\\s+")).map(Integer::parseInt).forEach(exposed::add);
        }
        Set<Integer> expected = new TreeSet<>(DeployFiles.METRICS_PORTS.values());
        for (String role : ServerRoleChecks.SERVER_ROLES) {
            expected.add(DeployFiles.defaultGrpcPort(role));
        }
        LauncherCommandLine zookeeper = DeployFiles.parse("convllava zookeeper", List.of("zookeeper"), Map.of());
        expected.add(zookeeper.intValue("--port"));
        assertEquals(expected, exposed);
    }

    @Test
    void installsTheHealthCheckAndTheProbeItRuns() throws IOException {
        List<String> copies = IMAGE.all("COPY", "base").stream().map(Instruction::arguments).toList();
        assertTrue(copies.contains("--from=health-probe /out/grpc-health-probe /usr/local/bin/grpc_health_probe"),
                copies.toString());
        assertTrue(copies.contains("--chmod=0755 deploy/container/convllava-health /usr/local/bin/convllava-health"),
                copies.toString());
        String script = DeployFiles.read("container/convllava-health");
        assertTrue(script.contains("exec grpc_health_probe "), "the script runs the probe the image installs");
        assertTrue(Files.isExecutable(DeployFiles.file("container/convllava-health")));
        // the same variables as the server's flags: the probe calls the address it binds, with its TLS files
        for (String flag : List.of("host", "tls-ca", "tls-cert", "tls-key")) {
            assertTrue(script.contains("CONVLLAVA_" + flag.toUpperCase().replace('-', '_')), flag);
        }
        assertTrue(script.contains("liveness") && GrpcServer.LIVENESS.equals("liveness"),
                "the script documents the liveness service by its name in the code");
        // grpc_health_probe's flags, as its v0.4 command line has them
        for (String flag : List.of("-addr=", "-service=", "-tls ", "-tls-ca-cert=", "-tls-client-cert=",
                "-tls-client-key=", "-connect-timeout=", "-rpc-timeout=")) {
            assertTrue(script.contains(flag), flag);
        }
    }

    @Test
    void cudaTargetPointsDjlAtLibtorchForCudaWithItsJniLibrary() {
        Map<String, String> env = env("cuda");
        assertEquals("cu128", env.get("PYTORCH_FLAVOR"));
        assertEquals("2.7.1", env.get("PYTORCH_VERSION"));
        String libDir = env.get("PYTORCH_LIBRARY_PATH");
        assertEquals("--from=libtorch-cuda " + libDir + " " + libDir, IMAGE.all("COPY", "cuda").get(0).arguments());
        String unzip = IMAGE.all("RUN", "libtorch-cuda").stream().map(Instruction::arguments)
                .filter(r -> r.contains("libdjl_torch.so")).findFirst().orElseThrow();
        assertTrue(unzip.contains("jnilib/linux-x86_64/cu128/libdjl_torch.so") && unzip.endsWith("-d " + libDir),
                "DJL finds its JNI library next to libtorch: " + unzip);
        String url = IMAGE.argDefault("LIBTORCH_URL", "libtorch-cuda").orElseThrow();
        assertTrue(url.contains("2.7.1") && url.contains("cu128"), url);
        for (Instruction run : IMAGE.all("RUN", null)) {
            if (run.arguments().contains("apt-get install")) {
                assertTrue(run.arguments().contains("--no-install-recommends")
                        && run.arguments().contains("rm -rf /var/lib/apt/lists/*"), run.toString());
            }
        }
        assertTrue(IMAGE.all("ADD", null).isEmpty(), "COPY, not ADD");
    }

    /** ENV of {@code stage} and the stages it is built on. */
    private static Map<String, String> env(String stage) {
        Map<String, String> env = new HashMap<>();
        List<String> chain = new ArrayList<>();
        for (String s = stage; s != null; ) {
            chain.add(0, s);
            String name = s;
            s = IMAGE.stages().stream().filter(st -> st.name().equals(name)).map(Dockerfile.Stage::from)
                    .filter(from -> IMAGE.stages().stream().anyMatch(st -> st.name().equals(from)))
                    .findFirst().orElse(null);
        }
        for (String s : chain) {
            for (Instruction instruction : IMAGE.all("ENV", s)) {
                for (String assignment : instruction.arguments().split("\\s+")) {
                    String[] kv = assignment.split("=", 2);
                    assertNotEquals(1, kv.length, "ENV " + instruction.arguments() + ": use NAME=value");
                    env.put(kv[0], kv[1]);
                }
            }
        }
        return env;
    }

    /** The words of a shell command with single-quoted strings and backslash-newlines already joined. */
    private static List<String> shellWords(String command) {
        List<String> words = new ArrayList<>();
        Matcher m = Pattern.compile("'([^']*)'|(\\S+)").matcher(command);
        while (m.find()) {
            words.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        return words;
    }
}
