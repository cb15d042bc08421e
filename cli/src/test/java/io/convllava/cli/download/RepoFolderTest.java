package io.convllava.cli.download;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RepoFolderTest {
    private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    Path cache;

    @Test
    void snapshotFilesAreRelativeLinksToTheirBlobs() throws IOException {
        RepoFolder folder = new RepoFolder(cache, "Org/Name");
        Files.createDirectories(folder.blob("e1").getParent());
        Files.writeString(folder.blob("e1"), "{}");
        folder.link(COMMIT, "config.json", "e1");
        folder.link(COMMIT, "vision_tower/config.json", "e1");

        Path snapshot = cache.resolve("models--Org--Name/snapshots/" + COMMIT);
        assertEquals(Path.of("../../blobs/e1"), Files.readSymbolicLink(snapshot.resolve("config.json")));
        assertEquals(Path.of("../../../blobs/e1"),
                Files.readSymbolicLink(snapshot.resolve("vision_tower/config.json")));
        assertEquals("{}", Files.readString(snapshot.resolve("vision_tower/config.json")));
        assertEquals(cache.resolve(".locks/models--Org--Name/e1.lock"), folder.lock("e1"));
    }

    @Test
    void aRefNamesTheCommitAndACommitNeedsNone() throws IOException {
        RepoFolder folder = new RepoFolder(cache, "Org/Name");
        folder.writeRef("main", COMMIT);
        folder.writeRef("refs/pr/1", COMMIT);
        folder.writeRef(COMMIT, COMMIT);
        assertEquals(COMMIT, Files.readString(cache.resolve("models--Org--Name/refs/main")));
        assertEquals(COMMIT, Files.readString(cache.resolve("models--Org--Name/refs/refs/pr/1")));
        assertTrue(Files.notExists(cache.resolve("models--Org--Name/refs/" + COMMIT)));
    }

    @Test
    void namesLeadingOutOfTheSnapshotAreRefused() {
        RepoFolder folder = new RepoFolder(cache, "Org/Name");
        for (String bad : new String[] {"../../../../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "", "a\\b"}) {
            HubException e = assertThrows(HubException.class, () -> folder.snapshotFile(COMMIT, bad), bad);
            assertTrue(e.getMessage().contains("not a plain relative path"), e.getMessage());
        }
        assertThrows(HubException.class, () -> folder.writeRef("../../x", COMMIT));
    }
}
