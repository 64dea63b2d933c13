package io.pgconmgr.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short-lived external commands (ip, iptables, initdb, pg_ctl...) and reports their output on failure. */
public final class Cmd {

    /** Exit code and merged stdout/stderr of a finished command. */
    public record Result(List<String> command, int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** Throws with the command's own output when it failed. */
        public Result orThrow() {
            if (!ok()) {
                throw new IllegalStateException(
                        "command failed (exit " + exitCode + "): " + String.join(" ", command) + "\n" + output.strip());
            }
            return this;
        }
    }

    private Cmd() {
    }

    public static Result run(List<String> command) {
        return exec(command, Duration.ofSeconds(60)).orThrow();
    }

    /** Runs and returns the result without judging the exit code; a timeout kills the command and reports exit -1. */
    public static Result exec(List<String> command, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result(command, 127, e.getMessage());
        }
        // Drain in the background: a chatty command must not block on a full pipe before we wait.
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                synchronized (out) {
                    out.append(text);
                }
            } catch (IOException ignored) {
                // the process went away; what was read is kept
            }
        }, "cmd-output");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                reader.join(1000);
                return new Result(command, -1, "timed out after " + timeout + "\n" + out);
            }
            // Daemonising children (pg_ctl start) may keep the pipe open: do not wait for EOF forever.
            reader.join(2000);
            synchronized (out) {
                return new Result(command, p.exitValue(), out.toString());
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }

    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, program))) {
                return true;
            }
        }
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name")) || uid() == 0;
    }

    private static long uid() {
        try {
            Object uid = java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid");
            return ((Number) uid).longValue();
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e);
    }
}
