package io.convllava.tests;

import io.convllava.common.testing.Fixtures;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The client examples of {@code clients/<language>} made ready to run (stubs compiled, packages installed, binary
 * built), each as the command that runs it; where a language's runtime or packages are missing, the test is skipped
 * with what to install (.ci/run installs them all). Build outputs go to {@code tests/target/clients}, except what each
 * client's README has its users make in place (the Python stubs in {@code clients/python/generated}, the Node
 * packages in {@code clients/node/node_modules}, both ignored by git).
 */
final class ClientToolchains {
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(3);
    private static final String DEBIAN_GO = "golang-go golang-google-grpc-dev golang-google-protobuf-dev"
            + " golang-github-golang-protobuf-1-5-dev";
    private static final Path GOCODE = Path.of("/usr/share/gocode/src");

    private final Path clients = Fixtures.projectRoot().resolve("clients");
    private final Path work = Fixtures.projectRoot().resolve("tests/target/clients");

    /** {@code python3 clients/python/generate.py}, its stubs compiled from the protos first. */
    List<String> python() throws IOException, InterruptedException {
        Optional<String> python = Stream.of("/usr/bin/python3", "python3").filter(ClientToolchains::importsGrpc)
                .findFirst();
        assumeTrue(python.isPresent(), "no python3 with grpcio and protobuf: install them (Debian: apt-get install"
                + " python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc)");
        boolean protoc = ExampleProcess.onPath("protoc").isPresent()
                && ExampleProcess.onPath("grpc_python_plugin").isPresent();
        assumeTrue(protoc || imports(python.get(), "grpc_tools"), "no proto compiler for Python: install protoc and"
                + " grpc_python_plugin (Debian: apt-get install protobuf-compiler protobuf-compiler-grpc)");
        Path dir = clients.resolve("python");
        build(dir, Map.of(), python.get(), "compile_protos.py");
        return List.of(python.get(), dir.resolve("generate.py").toString());
    }

    /** {@code node clients/node/generate.js}, after {@code npm ci} when its packages are missing or stale. */
    List<String> node() throws IOException, InterruptedException {
        Optional<Path> node = ExampleProcess.onPath("node");
        Optional<Path> npm = ExampleProcess.onPath("npm");
        assumeTrue(node.isPresent() && npm.isPresent(), "no node and npm on the PATH: install Node.js 18 or newer"
                + " (Debian: apt-get install nodejs npm)");
        ExampleProcess version = ExampleProcess.run(clients, Map.of(), BUILD_TIMEOUT,
                List.of(node.get().toString(), "-p", "process.versions.node.split('.')[0]"));
        assumeTrue(version.exitCode() == 0 && Integer.parseInt(version.out().strip()) >= 18,
                "the client needs Node.js 18 or newer, found " + version.out().strip());
        Path dir = clients.resolve("node");
        Path installed = dir.resolve("node_modules/.package-lock.json");
        if (!Files.exists(installed) || Files.getLastModifiedTime(installed)
                .compareTo(Files.getLastModifiedTime(dir.resolve("package-lock.json"))) < 0) {
            build(dir, Map.of(), npm.get().toString(), "ci", "--no-audit", "--no-fund");
        }
        return List.of(node.get().toString(), dir.resolve("generate.js").toString());
    }

    /** The Go example built by {@code clients/go/build.sh} against Debian's Go sources, offline. */
    List<String> go() throws IOException, InterruptedException {
        assumeTrue(ExampleProcess.onPath("go").isPresent() && Files.isDirectory(GOCODE.resolve("google.golang.org/grpc"))
                        && Files.isDirectory(GOCODE.resolve("google.golang.org/protobuf")),
                "no go and gRPC-Go sources in /usr/share/gocode: install them (Debian: apt-get install " + DEBIAN_GO
                        + ")");
        // the 1.3 line of github.com/golang/protobuf, which gRPC-Go marshals through, crashes on today's stubs
        assumeTrue(!Files.exists(GOCODE.resolve("github.com/golang/protobuf/proto/table_marshal.go")),
                "/usr/share/gocode has github.com/golang/protobuf 1.3: apt-get install"
                        + " golang-github-golang-protobuf-1-5-dev");
        Path binary = work.resolve("go/generate");
        // the build cache outlives the binary's folder between runs, short of mvn clean
        String cache = System.getenv().getOrDefault("GOCACHE", work.resolve("go-cache").toString());
        build(clients.resolve("go"), Map.of("GOCACHE", cache), "./build.sh", binary.toString());
        return List.of(binary.toString());
    }

    /** The Go messages and stubs compiled again from the protos by {@code clients/go/compile_protos.sh}. */
    Path goStubsCompiledNow() throws IOException, InterruptedException {
        assumeTrue(Stream.of("protoc", "protoc-gen-go", "protoc-gen-go-grpc")
                        .allMatch(tool -> ExampleProcess.onPath(tool).isPresent()),
                "no protoc, protoc-gen-go and protoc-gen-go-grpc on the PATH: install them (Debian: apt-get install"
                        + " protobuf-compiler protoc-gen-go protoc-gen-go-grpc)");
        Path out = work.resolve("go-stubs");
        build(clients.resolve("go"), Map.of(), "./compile_protos.sh", out.toString());
        return out;
    }

    Path clients() {
        return clients;
    }

    private static void build(Path dir, Map<String, String> env, String... command)
            throws IOException, InterruptedException {
        ExampleProcess build = ExampleProcess.run(dir, env, BUILD_TIMEOUT, List.of(command));
        assertEquals(0, build.exitCode(), build::describe);
    }

    private static boolean importsGrpc(String python) {
        return imports(python, "grpc, google.protobuf");
    }

    private static boolean imports(String python, String modules) {
        try {
            return ExampleProcess.run(Path.of("."), Map.of(), BUILD_TIMEOUT,
                    List.of(python, "-c", "import " + modules)).exitCode() == 0;
        } catch (IOException e) {
            return false; // no such interpreter
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
