package io.pgconmgr.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs Debian's pgbench (select-only) against one endpoint and reads its summary. */
public final class Pgbench {

    private static final Pattern TPS = Pattern.compile("^tps = ([0-9.]+) \\((including|without)", Pattern.MULTILINE);
    private static final Pattern FAILED = Pattern.compile("^number of failed transactions: (\\d+)", Pattern.MULTILINE);
    private static final Pattern PROCESSED = Pattern.compile(
            "^number of transactions actually processed: (\\d+)", Pattern.MULTILINE);
    private static final Pattern LATENCY = Pattern.compile("^latency average = ([0-9.]+) ms", Pattern.MULTILINE);

    /** Summary of one run; {@code tps} is NaN when pgbench failed (see {@code output}). */
    public record Result(double tps, long transactions, long failed, double latencyMs, boolean aborted, String output) {
        public boolean ok() {
            return !Double.isNaN(tps) && failed == 0 && !aborted;
        }

        /** The pgbench error lines, for a note beside a failed figure. */
        public String errors() {
            return output.lines().filter(l -> l.startsWith("pgbench: error")).limit(3)
                    .reduce((a, b) -> a + "; " + b).orElse("");
        }
    }

    private Pgbench() {
    }

    /** Initialises the pgbench tables on a database reached directly. */
    public static void init(String host, int port, int scale) {
        Proc.Result r = Proc.run(List.of("pgbench", "-i", "-q", "-s", String.valueOf(scale), "-h", host,
                "-p", String.valueOf(port), "-U", "postgres", "postgres"), Duration.ofMinutes(3));
        if (r.exitCode() != 0) {
            throw new IllegalStateException("pgbench -i failed: " + r.output());
        }
    }

    /**
     * Select-only run; {@code connectPerTransaction} adds -C (a new connection, with its startup and
     * authentication, for every transaction).
     */
    public static Result selectOnly(String host, int port, int clients, int threads, Duration duration,
                                    boolean connectPerTransaction) {
        List<String> cmd = new ArrayList<>(List.of("pgbench", "-S", "-n", "-c", String.valueOf(clients),
                "-j", String.valueOf(threads), "-T", String.valueOf(duration.toSeconds()),
                "-h", host, "-p", String.valueOf(port), "-U", "postgres"));
        if (connectPerTransaction) {
            cmd.add("-C");
        }
        cmd.add("postgres");
        Proc.Result r = Proc.run(cmd, duration.plusSeconds(60));
        return parse(r.output(), r.exitCode());
    }

    /** Reads pgbench's summary lines; unknown or missing figures become NaN / -1. */
    static Result parse(String output, int exitCode) {
        Matcher tps = TPS.matcher(output);
        Matcher failed = FAILED.matcher(output);
        Matcher processed = PROCESSED.matcher(output);
        Matcher latency = LATENCY.matcher(output);
        return new Result(
                tps.find() ? Double.parseDouble(tps.group(1)) : Double.NaN,
                processed.find() ? Long.parseLong(processed.group(1)) : -1,
                failed.find() ? Long.parseLong(failed.group(1)) : 0,
                latency.find() ? Double.parseDouble(latency.group(1)) : Double.NaN,
                exitCode != 0 || output.contains("Run was aborted"),
                output);
    }
}
