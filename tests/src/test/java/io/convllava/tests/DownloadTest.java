package io.convllava.tests;

import com.google.gson.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code convllava download} against {@link FakeHub}, a local imitation of the Hub's file API and its CDN: the demo
 * model with its vision tower in a gated repository of its own, fetched through redirects, a cut-off transfer and a
 * partial file left by an earlier run, into the hub cache layout of {@code huggingface_hub}; then the downloaded model
 * answers a sample question by its hub id. Refusals (401, 404) and a wrong checksum end with a message that names
 * what is at fault, and leave no blob that is not what the Hub announced.
 */
class DownloadTest {
    private static final String TOKEN = "hf_test_token_0123456789";
    private static final String MODEL = "convllava-test/shapes";
    private static final String TOWER = "convllava-test/shapes-tower";

    @TempDir
    Path tmp;
    private FakeHub hub;
    private Path cache;
    private Path tokenFile;

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub(TOKEN);
        cache = tmp.resolve("hub");
        tokenFile = Files.writeString(tmp.resolve("token"), TOKEN + "\n");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    @Test
    void fetchesTheModelAndItsTowerResumingTransfersThenAnswersByHubId() throws IOException {
        FakeRepo model = ShapesOnTheHub.model(MODEL, TOWER);
        FakeRepo tower = ShapesOnTheHub.tower(TOWER);
        hub.add(model);
        hub.add(tower);
        String shard1 = model.lfsEtag("model-00001-of-00002.safetensors");
        String shard2 = model.lfsEtag("model-00002-of-00002.safetensors");
        byte[] shard2Bytes = model.files().get("model-00002-of-00002.safetensors");
        // an earlier run left the first 1 MB of shard 2; shard 1's first transfer drops after 3 MB
        Path partial = cache.resolve("models--convllava-test--shapes/blobs/" + shard2 + ".incomplete");
        Files.createDirectories(partial.getParent());
        Files.write(partial, Arrays.copyOf(shard2Bytes, 1_000_000));
        hub.cutOnce(shard1, 3_000_000);

        // without the token the model comes, and the gated tower is refused
        CliRun anonymous = download(MODEL);
        assertEquals(1, anonymous.exitCode, anonymous.err);
        assertTrue(anonymous.err.contains(TOWER) && anonymous.err.contains("401")
                && anonymous.err.contains("HF_TOKEN") && anonymous.err.contains("accept the model's terms"),
                anonymous.err);
        assertTrue(anonymous.err.contains("model-00001-of-00002.safetensors of " + MODEL + ": ")
                && anonymous.err.contains("trying again in"), "the cut-off transfer was not reported:\n"
                + anonymous.err);

        // with the token: the model's blobs are all in the cache already, the tower comes
        CliRun withToken = download(MODEL, "--token-file", tokenFile.toString());
        assertEquals(0, withToken.exitCode, withToken.err);
        assertTrue(withToken.out.contains(MODEL + " at main (commit " + model.commit() + "): "
                + model.files().size() + " files, 0 fetched"), withToken.out);
        assertTrue(withToken.out.contains(TOWER + " at main (commit " + tower.commit() + "): 2 files, 2 fetched"),
                withToken.out);
        assertTrue(withToken.out.contains("ready: convllava generate --model " + MODEL + " --hf-cache " + cache),
                withToken.out);

        assertHubLayout(model);
        assertHubLayout(tower);
        // the transfers resumed with ranges instead of starting over: each shard's bytes crossed the wire once
        List<FakeHub.Request> cdn = hub.requests().stream().filter(r -> r.server().equals("cdn")).toList();
        assertTrue(cdn.stream().anyMatch(r -> r.path().equals("/blobs/" + shard1)
                && "bytes=3000000-".equals(r.range())), "shard 1 was not resumed at 3 MB: " + cdn);
        assertTrue(cdn.stream().anyMatch(r -> r.path().equals("/blobs/" + shard2)
                && "bytes=1000000-".equals(r.range())), "shard 2 was not resumed at 1 MB: " + cdn);
        assertEquals(model.files().get("model-00001-of-00002.safetensors").length, hub.cdnBytesSent(shard1));
        assertEquals(shard2Bytes.length - 1_000_000, hub.cdnBytesSent(shard2));
        // the token went to the hub for the gated repository, never to the CDN
        assertTrue(cdn.stream().allMatch(r -> r.authorization() == null), "the CDN saw a token: " + cdn);
        assertTrue(hub.requests().stream().anyMatch(r -> r.server().equals("hub") && r.path().contains(TOWER)
                && ("Bearer " + TOKEN).equals(r.authorization())));

        // the downloaded model, named by its hub id, answers the sample's counting question as the reference does
        JsonObject sample = ShapesOnTheHub.countingSample();
        Path snapshot = cache.resolve("models--convllava-test--shapes/snapshots/" + model.commit());
        JsonObject answer = CliRun.of("generate", "--model", MODEL, "--hf-cache", cache.toString(),
                "--image", snapshot.resolve(sample.get("image").getAsString()).toString(),
                "--prompt", sample.get("question").getAsString(), "--max-new-tokens", "40", "--json").json();
        assertEquals(sample.get("reference_answer").getAsString(), answer.get("text").getAsString());
    }

    @Test
    void aFileWhoseChecksumIsWrongIsDeletedAndNamed() throws IOException {
        byte[] weights = random(2_000_000, 1);
        String wrong = FakeRepo.sha256("other bytes".getBytes(StandardCharsets.UTF_8));
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", "{}".getBytes(StandardCharsets.UTF_8));
        files.put("model.safetensors", weights);
        hub.add(FakeRepo.of("convllava-test/corrupt", files, false).announcing("model.safetensors", wrong));

        CliRun run = download("convllava-test/corrupt");

        assertEquals(1, run.exitCode, run.err);
        assertTrue(run.err.contains("model.safetensors of convllava-test/corrupt") && run.err.contains("sha256 is "
                + FakeRepo.sha256(weights)) && run.err.contains("the Hub's ETag says " + wrong)
                && run.err.contains("deleted"), run.err);
        Path blobs = cache.resolve("models--convllava-test--corrupt/blobs");
        assertFalse(Files.exists(blobs.resolve(wrong)), "a blob that is not what the Hub announced was kept");
        assertFalse(Files.exists(blobs.resolve(wrong + ".incomplete")), "the corrupt transfer was kept");
        assertTrue(Files.isRegularFile(blobs.resolve(FakeRepo.gitBlobSha1("{}".getBytes(StandardCharsets.UTF_8)))),
                "config.json, fetched before, is kept");
    }

    @Test
    void refusalsSayWhatIsMissingOrLocked() throws IOException {
        hub.add(ShapesOnTheHub.tower(TOWER));

        CliRun unknownAnonymous = download("convllava-test/absent");
        assertEquals(1, unknownAnonymous.exitCode);
        assertTrue(unknownAnonymous.err.contains("convllava-test/absent") && unknownAnonymous.err.contains("401")
                && unknownAnonymous.err.contains("does not exist, or it is private or gated")
                && unknownAnonymous.err.contains("HF_TOKEN"), unknownAnonymous.err);

        CliRun unknown = download("convllava-test/absent", "--token-file", tokenFile.toString());
        assertEquals(1, unknown.exitCode);
        assertTrue(unknown.err.contains("repository convllava-test/absent at revision main: not found on "
                + hub.endpoint() + " (404)"), unknown.err);

        CliRun badRevision = download(TOWER, "--token-file", tokenFile.toString(), "--revision", "v9");
        assertEquals(1, badRevision.exitCode);
        assertTrue(badRevision.err.contains("revision v9: no such revision in " + TOWER + " (404)"), badRevision.err);

        Path wrongToken = Files.writeString(tmp.resolve("wrong"), "hf_wrong");
        CliRun badToken = download(TOWER, "--token-file", wrongToken.toString());
        assertEquals(1, badToken.exitCode);
        assertTrue(badToken.err.contains("refused the token from the file") && badToken.err.contains("401"),
                badToken.err);
        assertFalse(Files.exists(cache.resolve("models--convllava-test--absent/blobs")));
    }

    @Test
    void aStalledTransferIsRetriedAndAServerIgnoringRangesSendsItAgain() throws IOException {
        byte[] weights = random(3_000_000, 2);
        FakeRepo repo = FakeRepo.of("convllava-test/stall", Map.of("model.safetensors", weights), false);
        hub.add(repo);
        hub.stallOnce(FakeRepo.sha256(weights), 1_000_000);
        hub.cdnIgnoresRanges(true);

        CliRun run = download(repo.id(), "--timeout-s", "2", "--no-vision-tower");

        assertEquals(0, run.exitCode, run.err);
        assertTrue(run.err.contains("no data for 2 s"), run.err);
        assertArrayEquals(weights, Files.readAllBytes(cache.resolve("models--convllava-test--stall/snapshots/"
                + repo.commit() + "/model.safetensors")));
        // at least: a loaded machine may see a further stall
        assertTrue(hub.cdnBytesSent(FakeRepo.sha256(weights)) >= 1_000_000 + weights.length,
                "the server ignoring the range sends the whole file again");
    }

    private CliRun download(String repo, String... more) {
        String[] args = Stream.concat(Stream.of("download", repo, "--hf-cache", cache.toString(), "--endpoint",
                hub.endpoint().toString()), Arrays.stream(more)).toArray(String[]::new);
        return CliRun.of(args);
    }

    /**
     * Every file of the repository in huggingface_hub's layout: {@code refs/main} holds the commit, each snapshot
     * file is a relative symlink to {@code blobs/<sha256 or git sha1>} holding the repository's bytes, and no
     * {@code .incomplete} file is left.
     */
    private void assertHubLayout(FakeRepo repo) throws IOException {
        Path root = cache.resolve("models--" + repo.id().replace("/", "--"));
        assertEquals(repo.commit(), Files.readString(root.resolve("refs/main")));
        Path snapshot = root.resolve("snapshots").resolve(repo.commit());
        for (Map.Entry<String, byte[]> f : repo.files().entrySet()) {
            Path link = snapshot.resolve(f.getKey());
            assertTrue(Files.isSymbolicLink(link), link + " is not a symlink");
            String up = "../".repeat(f.getKey().split("/").length + 1);
            assertEquals(up + "blobs/" + repo.blobName(f.getKey()), Files.readSymbolicLink(link).toString());
            assertArrayEquals(f.getValue(), Files.readAllBytes(link), f.getKey());
        }
        try (Stream<Path> blobs = Files.list(root.resolve("blobs"))) {
            assertEquals(List.of(), blobs.filter(b -> b.toString().endsWith(".incomplete")).toList());
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
