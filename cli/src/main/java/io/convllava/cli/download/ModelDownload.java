package io.convllava.cli.download;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.convllava.common.model.HubCache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * A ConvLLaVA model from the Hub: its repository, then the vision-tower repository its {@code config.json} names in
 * {@code mm_vision_tower} (the released configs name a hub id such as {@code ConvLLaVA/ConvLLaVA-ConvNeXt-1536}, whose
 * weights the reference loads). A tower that is a folder inside the repository, or on this machine, needs nothing
 * more. The tower repository is fetched at {@code main}: the config names no revision.
 *
 * @param tower     the tower's repository, or null when none was fetched
 * @param towerNote what was done about the tower, in words
 */
public record ModelDownload(RepoDownload model, RepoDownload tower, String towerNote) {

    public static ModelDownload run(RepoDownloader downloader, String repo, String revision, boolean withTower) {
        RepoDownload model = downloader.download(repo, revision);
        if (!withTower) {
            return new ModelDownload(model, null, "vision tower not looked for (--no-vision-tower)");
        }
        Path config = model.snapshot().resolve("config.json");
        String tower = visionTower(config);
        if (tower == null) {
            return new ModelDownload(model, null, Files.isRegularFile(config)
                    ? "config.json names no mm_vision_tower" : "the repository has no config.json");
        }
        if (isFolder(model.snapshot(), tower)) {
            return new ModelDownload(model, null, "the vision tower is the folder '" + tower + "' (mm_vision_tower)");
        }
        if (tower.equals(repo)) {
            return new ModelDownload(model, null, "the vision tower is this repository (mm_vision_tower)");
        }
        if (!HubCache.isRepoId(tower)) {
            return new ModelDownload(model, null, "mm_vision_tower '" + tower + "' is neither a folder here nor a"
                    + " hub id: give --vision-tower DIR when loading the model");
        }
        return new ModelDownload(model, downloader.download(tower, "main"),
                "the vision tower " + tower + " (mm_vision_tower)");
    }

    /** {@code mm_vision_tower} of the config, or null. */
    private static String visionTower(Path config) {
        if (!Files.isRegularFile(config)) {
            return null;
        }
        try {
            JsonObject json = JsonParser.parseString(Files.readString(config)).getAsJsonObject();
            JsonElement tower = json.get("mm_vision_tower");
            return tower != null && tower.isJsonPrimitive() && !tower.getAsString().isBlank()
                    ? tower.getAsString().strip() : null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + config, e);
        } catch (JsonParseException | IllegalStateException e) {
            throw new HubException(config + " is not a JSON object (" + e.getMessage() + ")", e);
        }
    }

    /** Whether {@code tower} is a folder: relative to the model (like ModelFiles resolves it), or absolute. */
    private static boolean isFolder(Path snapshot, String tower) {
        try {
            Path p = Path.of(tower);
            return Files.isDirectory(p.isAbsolute() ? p : snapshot.resolve(p));
        } catch (InvalidPathException e) {
            return false;
        }
    }
}
