package io.pgconmgr.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Counts a process's system calls (all its threads) with {@code strace -c -f} while a load runs: the
 * proxy's syscalls per transaction say more about its data path than its CPU time on a busy machine.
 * strace slows the traced process a lot, so figures taken with it are for this count only.
 */
final class Syscalls implements AutoCloseable {

    /** One strace summary line. */
    record Count(String name, long calls) {
    }

    private final Process strace;
    private final Path out;

    Syscalls(long pid) {
        try {
            out = Files.createTempFile("pgconmgr-bench-strace-", ".txt");
            strace = new ProcessBuilder("strace", "-c", "-f", "-q", "-o", out.toString(), "-p", String.valueOf(pid))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            Net.sleep(java.time.Duration.ofMillis(500)); // attach to every thread before the load starts
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start strace: " + e.getMessage(), e);
        }
    }

    /** Detaches and returns the counts, most frequent first. */
    List<Count> stop() {
        try {
            new ProcessBuilder("kill", "-INT", String.valueOf(strace.pid())).start().waitFor();
            strace.waitFor(10, TimeUnit.SECONDS);
            return parse(Files.readString(out));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /** Reads strace -c's table: "% time seconds usecs/call calls [errors] syscall". */
    static List<Count> parse(String summary) {
        List<Count> counts = new ArrayList<>();
        for (String line : summary.lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 5 || !f[0].matches("[0-9.]+") || f[f.length - 1].equals("total")) {
                continue;
            }
            counts.add(new Count(f[f.length - 1], Long.parseLong(f[3])));
        }
        counts.sort(Comparator.comparingLong(Count::calls).reversed());
        return counts;
    }

    /** "12.3 per tx (read 4.0, write 4.0, ...)" for the top calls. */
    static String perTransaction(List<Count> counts, long transactions) {
        if (transactions <= 0 || counts.isEmpty()) {
            return "n/a";
        }
        long total = counts.stream().mapToLong(Count::calls).sum();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%.1f per tx (", (double) total / transactions));
        for (int i = 0; i < Math.min(4, counts.size()); i++) {
            Count c = counts.get(i);
            sb.append(i > 0 ? ", " : "").append(c.name()).append(' ')
                    .append(String.format(Locale.ROOT, "%.1f", (double) c.calls() / transactions));
        }
        return sb.append(')').toString();
    }

    @Override
    public void close() {
        strace.destroyForcibly();
        try {
            Files.deleteIfExists(out);
        } catch (IOException ignored) {
            // temp file
        }
    }
}
