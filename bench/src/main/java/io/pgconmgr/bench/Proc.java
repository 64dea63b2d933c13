package io.pgconmgr.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Child processes and what /proc says about any process (resident memory, CPU time). */
public final class Proc {

    /** Exit code (-1 on timeout) and merged stdout/stderr. */
    public record Result(int exitCode, String output) {
    }

    private static final long CLOCK_TICKS = 100; // USER_HZ on Linux x86_64
    private static final java.util.Set<Process> STARTED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        // Children outlive a JVM stopped by a signal: kill what is still running (servers, clients, sidecars).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> STARTED.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }), "bench-children-reaper"));
    }

    /** Remembers a long-running child so a JVM stopped by a signal still kills it. */
    public static Process track(Process p) {
        STARTED.add(p);
        p.onExit().thenRun(() -> STARTED.remove(p));
        return p;
    }

    private Proc() {
    }

    /** Runs a command to completion (killed after {@code timeout}), output merged. */
    public static Result run(List<String> command, Duration timeout) {
        try {
            Path out = Files.createTempFile("pgconmgr-bench-", ".out");
            try {
                Process p = track(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start());
                boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!done) {
                    kill(p);
                }
                return new Result(done ? p.exitValue() : -1, Files.readString(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }

    /** Starts a long-running process with its output in {@code log}. */
    public static Process start(List<String> command, Path log) {
        try {
            return track(new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command + ": " + e.getMessage(), e);
        }
    }

    /** Kills a process and its descendants and waits a little for them to go. */
    public static void kill(Process p) {
        if (p == null) {
            return;
        }
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Resident set size in KiB (VmRSS), or -1 when the process is gone. */
    public static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            return -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** User plus system CPU time consumed so far, in milliseconds, or -1 when the process is gone. */
    public static long cpuMillis(long pid) {
        long[] t = cpuTimes(pid);
        return t == null ? -1 : t[0] + t[1];
    }

    /** User and system CPU time consumed so far, in milliseconds, or null when the process is gone. */
    private static long[] cpuTimes(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            // Fields after the command name (which may hold spaces) start after the last ')'.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // utime, stime (fields 14, 15)
            return new long[] {Long.parseLong(f[11]) * 1000 / CLOCK_TICKS, Long.parseLong(f[12]) * 1000 / CLOCK_TICKS};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Sum of {@link #rssKib} over a process and its descendants (a launcher script plus its JVM). */
    public static long treeRssKib(ProcessHandle root) {
        long sum = Math.max(0, rssKib(root.pid()));
        for (ProcessHandle d : (Iterable<ProcessHandle>) root.descendants()::iterator) {
            sum += Math.max(0, rssKib(d.pid()));
        }
        return sum;
    }

    /** CPU time of a process and its descendants so far, split into user and system (kernel) time. */
    public record CpuTime(long userMillis, long systemMillis) {
        public long totalMillis() {
            return userMillis + systemMillis;
        }

        public CpuTime minus(CpuTime earlier) {
            return new CpuTime(userMillis - earlier.userMillis, systemMillis - earlier.systemMillis);
        }

        public CpuTime plus(CpuTime other) {
            return new CpuTime(userMillis + other.userMillis, systemMillis + other.systemMillis);
        }
    }

    /** {@link CpuTime} summed over a process and its descendants (a launcher script plus its JVM). */
    public static CpuTime treeCpu(ProcessHandle root) {
        long user = 0;
        long system = 0;
        for (ProcessHandle p : (Iterable<ProcessHandle>) Stream.concat(Stream.of(root),
                root.descendants())::iterator) {
            long[] t = cpuTimes(p.pid());
            if (t != null) {
                user += t[0];
                system += t[1];
            }
        }
        return new CpuTime(user, system);
    }
}
