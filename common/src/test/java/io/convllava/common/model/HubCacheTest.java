package io.convllava.common.model;

import io.convllava.common.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HubCacheTest {
    @TempDir
    Path tmp;

    @Test
    void cacheLocationFollowsTheHuggingFacePrecedence() {
        Map<String, String> env = Map.of("HF_HUB_CACHE", "/a/hub", "HF_HOME", "/b");
        assertEquals(Path.of("/explicit"), HubCache.locate(Path.of("/explicit"), env, "/home/u"));
        assertEquals(Path.of("/a/hub"), HubCache.locate(null, env, "/home/u"));
        assertEquals(Path.of("/b/hub"), HubCache.locate(null, Map.of("HF_HOME", "/b"), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/huggingface/hub"), HubCache.locate(null, Map.of(), "/home/u"));
    }

    @Test
    void refsMainPicksTheSnapshot() {
        Path snapshot = HubCache.snapshot(Fixtures.hubtinyCache(), "ConvLLaVA/ConvLLaVA-sft-tiny");
        assertEquals(Fixtures.hubtinyCache().resolve(
                "models--ConvLLaVA--ConvLLaVA-sft-tiny/snapshots/0f1e2d3c4b5a69788796a5b4c3d2e1f001234567"), snapshot);
        assertNull(HubCache.snapshot(Fixtures.hubtinyCache(), "ConvLLaVA/absent"));
    }

    @Test
    void withoutRefsTheOnlySnapshotIsUsed() throws Exception {
        Path snap = Files.createDirectories(tmp.resolve("models--Org--Name/snapshots/abc"));
        assertEquals(snap, HubCache.snapshot(tmp, "Org/Name"));
    }

    @Test
    void repoIdsAreOrgSlashName() {
        assertTrue(HubCache.isRepoId("ConvLLaVA/ConvLLaVA-ConvNeXt-1536"));
        assertFalse(HubCache.isRepoId("./vision_tower"));
        assertFalse(HubCache.isRepoId("/abs/path"));
        assertFalse(HubCache.isRepoId("a/b/c"));
    }
}
