package io.convllava.cli.download;

import java.nio.charset.StandardCharsets;

/** Percent-encoding of the parts of a Hub URL (RFC 3986 unreserved characters stay as they are). */
final class UrlPaths {
    private UrlPaths() {
    }

    /** A file's path in a repository, its {@code /} kept. */
    static String path(String path) {
        return encode(path, true);
    }

    /** One segment: a revision such as {@code refs/pr/1} becomes {@code refs%2Fpr%2F1}. */
    static String segment(String s) {
        return encode(s, false);
    }

    private static String encode(String s, boolean keepSlash) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
                    || c == '_' || c == '~' || keepSlash && c == '/') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }
}
