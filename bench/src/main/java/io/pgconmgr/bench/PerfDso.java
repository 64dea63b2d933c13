package io.pgconmgr.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples a process with {@code perf record} while a load runs and splits its CPU by shared object:
 * kernel, JIT-compiled code, the JVM itself (interpreter, GC, compilers), native libraries.
 */
final class PerfDso implements AutoCloseable {

    private final Process perf;
    private final Path data;

    PerfDso(long pid, Duration duration) {
        try {
            data = Files.createTempFile("pgconmgr-bench-perf-", ".data");
            perf = new ProcessBuilder("perf", "record", "-q", "-F", "999", "-p", String.valueOf(pid), "-o", data.toString(),
                    "--", "sleep", String.valueOf(duration.toSeconds()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start perf: " + e.getMessage(), e);
        }
    }

    /** Waits for the recording and returns "kernel 52%, [JIT] 30%, ..." (shares of the process's samples). */
    String report() {
        try {
            perf.waitFor();
            Proc.Result r = Proc.run(List.of("perf", "report", "-i", data.toString(), "--sort", "dso", "--stdio", "-q"),
                    Duration.ofMinutes(2));
            return summarize(r.output());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "n/a";
        }
    }

    /** The hottest symbols ("12.3% libjvm.so SymbolName"), for a closer look at one proxy. */
    String topSymbols(int n) {
        Proc.Result r = Proc.run(List.of("perf", "report", "-i", data.toString(), "--sort", "dso,sym", "--stdio", "-q"),
                Duration.ofMinutes(2));
        return String.join("; ", r.output().lines().map(String::trim).filter(l -> l.matches("[0-9.]+%.*")).limit(n)
                .map(l -> l.replaceAll("\\s+", " ")).toList());
    }

    /** Reads "  52.10%  [kernel.kallsyms]" lines; anonymous JIT code shows as perf-PID.map or [unknown]. */
    static String summarize(String report) {
        List<String> parts = new ArrayList<>();
        for (String line : report.lines().toList()) {
            String t = line.trim();
            if (!t.matches("[0-9.]+%\\s+\\S.*") || parts.size() >= 5) {
                continue;
            }
            String[] f = t.split("\\s+", 2);
            String dso = f[1].trim();
            if (dso.equals("[kernel.kallsyms]")) {
                dso = "kernel";
            } else if (dso.startsWith("perf-") || dso.equals("[unknown]") || dso.startsWith("[JIT]")) {
                dso = "JIT code";
            }
            parts.add(dso + " " + f[0]);
        }
        return parts.isEmpty() ? "n/a" : String.join(", ", parts);
    }

    @Override
    public void close() {
        perf.destroyForcibly();
        try {
            Files.deleteIfExists(data);
        } catch (IOException ignored) {
            // temp file
        }
    }
}
