package io.convllava.cli.download;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ContentCheckTest {
    private static final URI SOMEWHERE = URI.create("http://127.0.0.1/x");
    // `printf hello | sha256sum` and `printf hello | git hash-object --stdin`
    private static final String HELLO_SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    private static final String HELLO_GIT_SHA1 = "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0";

    @TempDir
    Path tmp;

    @Test
    void anLfsEtagIsTheSha256AndAGitEtagTheBlobSha1() throws IOException {
        Path file = Files.writeString(tmp.resolve("f"), "hello");
        assertNull(ContentCheck.mismatch(new RemoteFile("a.bin", HELLO_SHA256, 5, SOMEWHERE), file));
        assertNull(ContentCheck.mismatch(new RemoteFile("a.json", HELLO_GIT_SHA1, 5, SOMEWHERE), file));

        Path other = Files.writeString(tmp.resolve("g"), "hellO");
        assertEquals("its sha256 is ", ContentCheck.mismatch(new RemoteFile("a.bin", HELLO_SHA256, 5, SOMEWHERE),
                other).substring(0, 14));
        assertEquals("its git sha1 is ", ContentCheck.mismatch(new RemoteFile("a.json", HELLO_GIT_SHA1, 5,
                SOMEWHERE), other).substring(0, 16));
    }

    @Test
    void anotherEtagChecksTheSize() throws IOException {
        Path file = Files.writeString(tmp.resolve("f"), "hello");
        assertNull(ContentCheck.mismatch(new RemoteFile("a", "mirror-etag-1", 5, SOMEWHERE), file));
        assertEquals("its size is 5 bytes, the Hub says 6",
                ContentCheck.mismatch(new RemoteFile("a", "mirror-etag-1", 6, SOMEWHERE), file));
        assertEquals("size only", ContentCheck.kind("mirror-etag-1"));
    }

    @Test
    void etagsAreUnquoted() {
        assertEquals(HELLO_SHA256, HubApi.normalizeEtag("\"" + HELLO_SHA256 + "\""));
        assertEquals("abc", HubApi.normalizeEtag("W/\"abc\""));
        assertNull(HubApi.normalizeEtag("\"\""));
    }
}
