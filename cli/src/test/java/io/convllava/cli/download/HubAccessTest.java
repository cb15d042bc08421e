package io.convllava.cli.download;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HubAccessTest {
    @TempDir
    Path tmp;

    @Test
    void endpointIsTheFlagThenHfEndpointThenTheHub() {
        Map<String, String> env = Map.of("HF_ENDPOINT", "https://hf-mirror.example");
        assertEquals(URI.create("http://127.0.0.1:8080"), HubAccess.resolve("http://127.0.0.1:8080", null, env,
                tmp.toString()).endpoint());
        assertEquals(URI.create("https://hf-mirror.example"), HubAccess.resolve(null, null, env, tmp.toString())
                .endpoint());
        assertEquals(URI.create("https://huggingface.co"), HubAccess.resolve(null, null, Map.of(), tmp.toString())
                .endpoint());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HubAccess.resolve(null, null, Map.of("HF_ENDPOINT", "ftp://x"), tmp.toString()));
        assertTrue(e.getMessage().contains("HF_ENDPOINT"), e.getMessage());
    }

    @Test
    void tokenIsTheFileGivenThenHfTokenThenTheLoginFile() throws IOException {
        Path given = Files.writeString(tmp.resolve("given"), "\n  hf_given  \n");
        Path hfHome = Files.createDirectories(tmp.resolve("hf-home"));
        Files.writeString(hfHome.resolve("token"), "hf_stored");
        Map<String, String> env = Map.of("HF_TOKEN", "hf_env", "HF_HOME", hfHome.toString());

        assertEquals("hf_given", HubAccess.resolve(null, given, env, tmp.toString()).token());
        HubAccess fromEnv = HubAccess.resolve(null, null, env, tmp.toString());
        assertEquals("hf_env", fromEnv.token());
        assertEquals("HF_TOKEN", fromEnv.tokenSource());
        assertEquals("hf_stored", HubAccess.resolve(null, null, Map.of("HF_HOME", hfHome.toString()), tmp.toString())
                .token());
        Path tokenPath = Files.writeString(tmp.resolve("elsewhere"), "hf_path");
        assertEquals("hf_path", HubAccess.resolve(null, null, Map.of("HF_TOKEN_PATH", tokenPath.toString(),
                "HF_HOME", hfHome.toString()), tmp.toString()).token());
        // ~/.cache/huggingface/token, absent here
        assertNull(HubAccess.resolve(null, null, Map.of(), tmp.toString()).token());
        assertFalse(fromEnv.toString().contains("hf_env"), "the token must not appear in logs: " + fromEnv);
    }

    @Test
    void theTokenGoesOnlyToTheEndpointsOrigin() {
        HubAccess access = new HubAccess(URI.create("https://huggingface.co"), "hf_x", "HF_TOKEN");
        assertTrue(access.isEndpointOrigin(URI.create("https://huggingface.co:443/api/models/a/b/revision/main")));
        assertFalse(access.isEndpointOrigin(URI.create("https://cdn-lfs.huggingface.co/repos/ab/cd")));
        assertFalse(access.isEndpointOrigin(URI.create("http://huggingface.co/a/b")));
        assertFalse(access.isEndpointOrigin(URI.create("https://huggingface.co:8443/a/b")));
    }
}
