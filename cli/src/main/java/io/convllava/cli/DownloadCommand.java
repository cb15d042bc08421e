package io.convllava.cli;

import io.convllava.cli.download.HubAccess;
import io.convllava.cli.download.ModelDownload;
import io.convllava.cli.download.RepoDownload;
import io.convllava.cli.download.RepoDownloader;
import io.convllava.cli.download.TransferProgress;
import io.convllava.cli.download.TransferSettings;
import io.convllava.common.model.HubCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code convllava download ORG/NAME}: a model and its vision-tower repository from the Hugging Face Hub into the
 * hub cache, where {@code --model ORG/NAME} of every command finds them.
 */
@Command(name = "download", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fetch a model from the Hugging Face Hub into the hub cache, with the vision-tower repository"
                + " its config.json names (mm_vision_tower); then --model ORG/NAME finds it.",
                "An interrupted download resumes where it stopped; every file is verified against the Hub's ETag"
                        + " (sha256 for large files, git sha1 for small ones)."})
final class DownloadCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Parameters(index = "0", paramLabel = "ORG/NAME", description = "The model's repository on the Hub, e.g."
            + " ConvLLaVA/ConvLLaVA-sft-1536.")
    String repo;

    @Option(names = "--revision", defaultValue = "main", paramLabel = "REV", description = "Branch, tag or commit of"
            + " the model (default: ${DEFAULT-VALUE}); the vision tower is fetched at main.")
    String revision;

    @Option(names = "--hf-cache", paramLabel = "DIR", description = "The hub cache to fill (default: $HF_HUB_CACHE,"
            + " $HF_HOME/hub or ~/.cache/huggingface/hub).")
    Path hfCache;

    @Option(names = "--endpoint", paramLabel = "URL", description = "The Hub or a mirror of it (default:"
            + " $HF_ENDPOINT, else " + HubAccess.DEFAULT_ENDPOINT + ").")
    String endpoint;

    @Option(names = "--token-file", paramLabel = "FILE", description = "A file holding the Hub token for gated or"
            + " private repositories (default: $HF_TOKEN, else the token huggingface-cli login stored in"
            + " $HF_HOME/token).")
    Path tokenFile;

    @Option(names = "--no-vision-tower", description = "Fetch only the model's repository.")
    boolean noVisionTower;

    @Option(names = "--timeout-s", defaultValue = "30", paramLabel = "SECONDS", description = "How long a request may"
            + " wait for an answer, and a transfer go without data, before it is tried again (default:"
            + " ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--retries", defaultValue = "5", paramLabel = "N", description = "Further tries after a lost"
            + " connection, a stall or a busy server; a transfer resumes where it stopped (default: ${DEFAULT-VALUE}).")
    int retries;

    @Override
    public Integer call() {
        if (!HubCache.isRepoId(repo)) {
            throw new UsageException("the repository must be a hub id ORG/NAME, e.g. ConvLLaVA/ConvLLaVA-sft-1536,"
                    + " got '" + repo + "'");
        }
        if (revision.isBlank()) {
            throw new UsageException("--revision must name a branch, tag or commit");
        }
        if (timeoutSeconds < 1 || retries < 0) {
            throw new UsageException("need --timeout-s >= 1 and --retries >= 0, got " + timeoutSeconds + " and "
                    + retries);
        }
        HubAccess access;
        try {
            access = HubAccess.fromEnvironment(endpoint, tokenFile);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        PrintStream out = main.out();
        PrintStream err = main.err();
        Path cache = HubCache.locate(hfCache);
        err.println("download: " + repo + " from " + access.endpoint() + " into " + cache
                + (access.token() != null ? " (with the token from " + access.tokenSource() + ")" : ""));
        TransferSettings settings = new TransferSettings(Duration.ofSeconds(timeoutSeconds), retries,
                TransferSettings.DEFAULTS.firstPause());
        RepoDownloader downloader = new RepoDownloader(access, settings, cache,
                new TransferProgress(err, StderrTerminal.is(err)));
        ModelDownload result = ModelDownload.run(downloader, repo, revision, !noVisionTower);
        print(result.model(), out);
        if (result.tower() != null) {
            print(result.tower(), out);
        }
        out.println("  " + result.towerNote());
        String model = revision.equals("main") ? repo : result.model().snapshot().toString();
        out.println("ready: convllava generate --model " + model + (hfCache != null ? " --hf-cache " + hfCache : "")
                + " --image photo.jpg --prompt \"Describe the image.\"");
        return 0;
    }

    private static void print(RepoDownload r, PrintStream out) {
        out.printf("%s at %s (commit %s): %d file%s, %d fetched (%s), in %s%n", r.repo(), r.revision(),
                r.commit(), r.files(), r.files() == 1 ? "" : "s", r.fetched(), TransferProgress.bytes(r.fetchedBytes()),
                r.snapshot());
    }
}
