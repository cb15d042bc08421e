package io.convllava.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A process's resident memory as Linux reports it in {@code /proc/<pid>/status}: VmRSS (now) and VmHWM (the
 * peak since it started), in bytes.
 */
public record ResidentMemory(long rssBytes, long hwmBytes) {

    /** Reads the two lines; fails when the process is gone or the system has no {@code /proc}. */
    public static ResidentMemory of(long pid) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"));
        return new ResidentMemory(kib(lines, "VmRSS:", pid) * 1024, kib(lines, "VmHWM:", pid) * 1024);
    }

    /** Each process's memory, by the names of {@code pids}, in their order. */
    public static Map<String, ResidentMemory> of(Map<String, Long> pids) throws IOException {
        Map<String, ResidentMemory> memory = new LinkedHashMap<>();
        for (Map.Entry<String, Long> p : pids.entrySet()) {
            memory.put(p.getKey(), of(p.getValue()));
        }
        return memory;
    }

    /** {@code "VmRSS:     123456 kB"} -> 123456. */
    static long kib(List<String> status, String key, long pid) throws IOException {
        for (String line : status) {
            if (line.startsWith(key)) {
                String[] parts = line.substring(key.length()).trim().split("\\s+");
                if (parts.length == 2 && parts[1].equals("kB")) {
                    return Long.parseLong(parts[0]);
                }
            }
        }
        throw new IOException("/proc/" + pid + "/status has no '" + key + " N kB' line");
    }
}
