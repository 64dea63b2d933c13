package io.pgconmgr.bench;

import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;

/**
 * pgbench select-only, persistent and connect-per-transaction, direct and through each proxy, interleaved
 * in rounds in the same run so the machine's background load hits every column alike.
 */
final class ProxyOverhead {

    /**
     * An endpoint pgbench talks to, the process whose CPU it costs (0: none, the direct path), and for conmgr the
     * metrics URLs of conmgr and of its watchdog (null for the others).
     */
    record Target(String name, int port, long pid, String metricsUrl, String watchdogMetricsUrl) {
        Target(String name, int port, long pid) {
            this(name, port, pid, null, null);
        }

        static Target conmgr(String name, Sidecars s) {
            return new Target(name, s.conmgrPort(), s.conmgrPid(), s.conmgrMetricsUrl(), s.watchdogs().get(0).metricsUrl());
        }

        /** A conmgr column (the default build or the alternative): the ones with metrics to read. */
        boolean isConmgr() {
            return metricsUrl != null;
        }
    }

    static final String COPY_RELAY = "C relay (copy: the user-space floor)";
    static final String SOCKMAP_RELAY = "C relay (BPF sockmap: in the kernel)";
    static final String KERNEL_CONMGR = "conmgr (proxy mode, kernel relay)";

    private ProxyOverhead() {
    }

    static void run(Options o) throws Exception {
        Duration duration = o.seconds("duration", 5);
        int clients = o.integer("clients", 8);
        int threads = o.integer("threads", 2);
        int rounds = o.integer("rounds", 4);
        List<String> modes = modes(o.string("modes", String.join(",", MODES)));
        try (PgCluster cluster = PgCluster.builder().namePrefix("bench-overhead")
                .conf("max_connections = 300").start()) {
            PgInstance pg = cluster.primary();
            Pgbench.init(pg.host(), pg.port(), 1);
            try (Haproxy haproxy = new Haproxy(pg.host(), pg.port(), 8000);
                 Pgbouncer pgbouncer = new Pgbouncer(pg.host(), pg.port(), 8000, clients * 2);
                 Sidecars sidecars = Sidecars.startIfBuilt(List.of(pg), o);
                 Sidecars alternative = alternative(pg, o);
                 CRelay copy = o.flag("relays") ? new CRelay("copy", pg.port()) : null;
                 CRelay sockmap = o.flag("relays") ? new CRelay("sockmap", pg.port()) : null;
                 KernelRelayAgent agent = o.flag("kernel-relay") ? new KernelRelayAgent() : null;
                 Sidecars kernel = agent == null ? null : Sidecars.startIfBuilt(List.of(pg),
                         Options.parse("--kernel-relay-socket", agent.socket().toString()))) {
                List<Target> targets = new ArrayList<>(List.of(
                        new Target("direct", pg.port(), 0),
                        new Target("HAProxy 2.6 (mode tcp)", haproxy.port(), haproxy.pid()),
                        new Target("PgBouncer 1.18 (session)", pgbouncer.port(), pgbouncer.pid())));
                if (sidecars != null) {
                    targets.add(Target.conmgr("conmgr (proxy mode)", sidecars));
                }
                if (alternative != null) {
                    targets.add(Target.conmgr("conmgr (proxy mode), " + o.string("alt-label", "variant"), alternative));
                }
                if (kernel != null) {
                    targets.add(Target.conmgr(KERNEL_CONMGR, kernel));
                }
                if (copy != null) {
                    targets.add(new Target(COPY_RELAY, copy.port(), copy.pid()));
                    targets.add(new Target(SOCKMAP_RELAY, sockmap.port(), sockmap.pid()));
                }
                // Unrecorded warm-up of every path in both modes. conmgr runs on a JVM whose JIT compiles the hot
                // paths as they run: the relay path within seconds, the per-connection path only after some
                // 10,000 connections (about 30 s of -C here). conmgr is a long-running sidecar, so the tables
                // show the steady state; the curve of the connection path's cost during the warm-up is noted.
                Duration warmup = o.seconds("warmup", 15);
                Duration warmupConnect = o.seconds("warmup-connect", 30);
                List<String> curves = new ArrayList<>();
                for (Target t : targets) {
                    if (!warmup.isZero() && (modes.contains("persistent") || modes.contains("latency"))) {
                        Table.progress("overhead: warm-up " + t.name());
                        Pgbench.selectOnly("127.0.0.1", t.port(), clients, threads, warmup, false);
                    }
                    // Also before persistent rounds: each round opens new connections, and a JIT that has never
                    // seen one would deoptimize the relay path in the middle of the round.
                    List<String> curve = warmupConnect.isZero()
                            ? List.of() : warmUpConnections(t, clients, threads, warmupConnect);
                    if (t.isConmgr() && !curve.isEmpty()) {
                        curves.add(t.name() + ": " + String.join(", ", curve));
                    }
                }
                if (modes.contains("persistent")) {
                    measure(targets, false, clients, threads, duration, rounds, "(persistent connections)", List.of());
                }
                if (modes.contains("latency")) {
                    // One client leaves the 2 cores unsaturated: the latency a proxy adds per round trip.
                    measure(targets, false, 1, 1, duration, rounds, "(one persistent connection: added latency)", List.of());
                }
                if (modes.contains("connect")) {
                    measure(targets, true, clients, threads, duration, rounds, "-C (new connection per transaction)",
                            curves.stream().map(c -> "JIT warm-up before these rounds, proxy CPU per 1k tx in successive "
                                    + WARMUP_CHUNK.toSeconds() + " s slices of -C on a fresh JVM: " + c).toList());
                }
                if (o.flag("syscalls")) {
                    syscalls(targets, clients, threads, duration);
                }
                if (o.flag("perf")) {
                    perf(targets, clients, threads, duration, o.flag("perf-symbols"));
                }
                if (copy != null) {
                    System.out.println("\n" + COPY_RELAY + " and " + SOCKMAP_RELAY + ": bench/experiments/relay.c, measuring"
                            + " tools, not proxies to deploy. The sockmap relay's work is done by the kernel (softirq and"
                            + " a kernel worker), charged to whatever runs there, so its proxy CPU column shows almost"
                            + " nothing: compare the tps.");
                }
                if (kernel != null) {
                    System.out.println("\n" + KERNEL_CONMGR + ": conmgr with kernel_relay_socket and bin/kernel-relay-agent"
                            + " (docs/kernel-relay.md): after routing, the kernel relays the bytes, so conmgr's own CPU"
                            + " leaves out that work (softirq and a kernel worker, charged to whatever runs there): compare"
                            + " the tps.");
                }
                if (sidecars == null) {
                    System.out.println("\n(conmgr column absent: " + Sidecars.missingReason() + ")");
                } else {
                    System.out.println("\nconmgr JVM flags: " + Sidecars.conmgrJavaOpts(o) + "; heartbeat to its watchdog "
                            + "(" + sidecars.heartbeatTiming() + ") running during the measurement.");
                }
            }
        }
    }

    /** The pgbench modes, in the order they run: -c N persistent, -c 1 persistent, -C. */
    static final List<String> MODES = List.of("persistent", "latency", "connect");

    /** Parses {@code --modes}: a comma-separated subset of {@link #MODES} (for quicker tuning runs). */
    static List<String> modes(String option) {
        List<String> modes = new ArrayList<>();
        for (String m : option.split(",")) {
            String mode = m.trim();
            if (!MODES.contains(mode)) {
                throw new IllegalArgumentException("--modes: unknown mode '" + mode + "'; known: " + String.join(", ", MODES));
            }
            modes.add(mode);
        }
        return modes;
    }

    /** Warm-up slices of -C; {@link #warmUpConnections} reports the proxy's CPU per slice. */
    private static final Duration WARMUP_CHUNK = Duration.ofSeconds(5);

    /** Runs -C for {@code total} in slices; returns the proxy's CPU per 1k transactions of each slice. */
    private static List<String> warmUpConnections(Target t, int clients, int threads, Duration total) {
        List<String> curve = new ArrayList<>();
        for (Duration done = Duration.ZERO; done.compareTo(total) < 0; done = done.plus(WARMUP_CHUNK)) {
            Duration slice = total.minus(done).compareTo(WARMUP_CHUNK) < 0 ? total.minus(done) : WARMUP_CHUNK;
            Table.progress("overhead: warm-up -C " + t.name() + " (" + done.toSeconds() + " of " + total.toSeconds() + " s)");
            long cpu0 = cpuOf(t).totalMillis();
            Pgbench.Result r = Pgbench.selectOnly("127.0.0.1", t.port(), clients, threads, slice, true);
            long cpu1 = cpuOf(t).totalMillis();
            if (t.pid() > 0 && r.transactions() > 0) {
                curve.add(Table.fmt((cpu1 - cpu0) * 1000.0 / r.transactions(), 0) + " ms");
            }
        }
        return curve;
    }

    private static void measure(List<Target> targets, boolean connectPerTx, int clients, int threads,
                                Duration duration, int rounds, String what, List<String> notes) {
        Map<Target, List<Double>> tps = new LinkedHashMap<>();
        Map<Target, List<Double>> cpuPerTx = new LinkedHashMap<>();
        Map<Target, Proc.CpuTime> cpu = new LinkedHashMap<>();
        Map<Target, Long> transactions = new LinkedHashMap<>();
        Map<Target, Long> packets = new LinkedHashMap<>();
        Map<Target, List<Double>> latency = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        Map<Target, HeartbeatWatch> heartbeats = new LinkedHashMap<>();
        targets.stream().filter(Target::isConmgr).forEach(t -> heartbeats.put(t, new HeartbeatWatch(t)));
        for (int round = 1; round <= rounds; round++) {
            for (Target t : targets) {
                Table.progress("overhead: " + t.name() + " " + what + " round " + round);
                Proc.CpuTime cpu0 = cpuOf(t);
                long packets0 = loopbackPackets();
                Pgbench.Result r = Pgbench.selectOnly("127.0.0.1", t.port(), clients, threads, duration, connectPerTx);
                packets.merge(t, loopbackPackets() - packets0, Long::sum);
                Proc.CpuTime used = cpuOf(t).minus(cpu0);
                tps.computeIfAbsent(t, k -> new ArrayList<>()).add(r.tps());
                latency.computeIfAbsent(t, k -> new ArrayList<>()).add(r.latencyMs());
                cpu.merge(t, used, Proc.CpuTime::plus);
                cpuPerTx.computeIfAbsent(t, k -> new ArrayList<>())
                        .add(r.transactions() > 0 ? used.totalMillis() * 1000.0 / r.transactions() : Double.NaN);
                transactions.merge(t, Math.max(0, r.transactions()), Long::sum);
                if (t.isConmgr()) {
                    heartbeats.get(t).roundDone();
                }
                if (!r.ok()) {
                    problems.add(t.name() + " round " + round + ": " + (r.errors().isEmpty() ? "no tps line" : r.errors()));
                }
            }
        }
        double direct = mean(tps.get(targets.get(0)));
        double directLatency = mean(latency.get(targets.get(0)));
        Table table = new Table("Proxy overhead: pgbench -S " + what + ", -c " + clients + " -j " + threads + " -T "
                + duration.toSeconds() + ", " + rounds + " interleaved rounds",
                "path", "tps (mean)", "tps per round", "ratio to direct", "latency avg (added)",
                "proxy CPU per 1k tx (user part)", "loopback packets per tx");
        for (Target t : targets) {
            double m = mean(tps.get(t));
            long tx = transactions.get(t);
            Proc.CpuTime c = cpu.get(t);
            String cpuCell = t.pid() == 0 ? "-" : tx > 0 ? Table.fmt(c.totalMillis() * 1000.0 / tx, 1) + " ms ("
                    + Table.fmt(c.userMillis() * 1000.0 / tx, 1) + ")" : "n/a";
            double lat = mean(latency.get(t));
            String latCell = Double.isNaN(lat) ? "n/a" : Table.fmt(lat * 1000, 0) + " µs"
                    + (t.pid() == 0 ? "" : " (+" + Table.fmt((lat - directLatency) * 1000, 0) + ")");
            table.row(t.name(), Table.fmt(m, 0), tps.get(t).stream().map(v -> Table.fmt(v, 0)).toList(),
                    Table.fmt(m / direct, 2), latCell, cpuCell, tx > 0 ? Table.fmt((double) packets.get(t) / tx, 1) : "n/a");
        }
        problems.forEach(table::note);
        pairedComparisons(targets, tps, cpuPerTx).forEach(table::note);
        heartbeats.values().forEach(h -> table.note(h.note()));
        notes.forEach(table::note);
        table.print();
    }

    /**
     * conmgr's heartbeat link while the relay keeps its I/O thread busy, seen from both ends: the gaps between two
     * frames (mean over the rounds from the timers' count and sum; largest from their decaying max, which spans the
     * last ~2 minutes, so it is read after every round) and the links lost.
     */
    private static final class HeartbeatWatch {
        private final Target target;
        private final double linkLosses0;
        private final double[] conmgr0;
        private final double[] watchdog0;
        private double largestConmgr = Double.NaN;
        private double largestWatchdog = Double.NaN;

        HeartbeatWatch(Target target) {
            this.target = target;
            String scrape = Http.get(target.metricsUrl());
            linkLosses0 = Http.metric(scrape, "conmgr_link_losses_total", Double::sum);
            conmgr0 = countAndSum(scrape, "conmgr_heartbeat_gap_seconds");
            watchdog0 = countAndSum(Http.get(target.watchdogMetricsUrl()), "watchdog_heartbeat_gap_seconds");
        }

        void roundDone() {
            largestConmgr = max(largestConmgr, Http.metric(Http.get(target.metricsUrl()), "conmgr_heartbeat_gap_seconds_max",
                    Math::max));
            largestWatchdog = max(largestWatchdog, Http.metric(Http.get(target.watchdogMetricsUrl()),
                    "watchdog_heartbeat_gap_seconds_max", Math::max));
        }

        String note() {
            String scrape = Http.get(target.metricsUrl());
            double losses = Http.metric(scrape, "conmgr_link_losses_total", Double::sum) - linkLosses0;
            return target.name() + ", heartbeat link to its watchdog (sharing the I/O thread with the relay): gap between two "
                    + "frames received by conmgr " + gaps(conmgr0, countAndSum(scrape, "conmgr_heartbeat_gap_seconds"),
                    largestConmgr) + "; by the watchdog " + gaps(watchdog0, countAndSum(Http.get(target.watchdogMetricsUrl()),
                    "watchdog_heartbeat_gap_seconds"), largestWatchdog) + "; link losses during these rounds "
                    + Table.fmt(losses, 0);
        }

        private static String gaps(double[] before, double[] after, double largest) {
            double n = after[0] - before[0];
            String mean = n > 0 ? Table.fmt((after[1] - before[1]) / n * 1000, 0) + " ms" : "n/a";
            return "mean " + mean + " over " + Table.fmt(n, 0) + " gaps during these rounds, largest "
                    + Table.fmt(largest * 1000, 0) + " ms within ~2 min before each round's end";
        }

        private static double[] countAndSum(String scrape, String timer) {
            return new double[] {Http.metric(scrape, timer + "_count", Double::sum), Http.metric(scrape, timer + "_sum", Double::sum)};
        }

        private static double max(double a, double b) {
            return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.max(a, b);
        }
    }

    private static Proc.CpuTime cpuOf(Target t) {
        return t.pid() > 0 ? Proc.treeCpu(ProcessHandle.of(t.pid()).orElseThrow()) : new Proc.CpuTime(0, 0);
    }

    /**
     * Each conmgr column against each other proxy, round by round: the machine's load drifts by more than the
     * difference between two proxies, and a round runs the columns one right after the other, so a per-round
     * ratio is steadier than a ratio of means.
     */
    static List<String> pairedComparisons(List<Target> targets, Map<Target, List<Double>> tps,
                                          Map<Target, List<Double>> cpuPerTx) {
        List<String> lines = new ArrayList<>();
        for (Target ours : targets) {
            if (!ours.isConmgr()) {
                continue;
            }
            for (Target other : targets) {
                if (other.pid() == 0 || other.isConmgr()) {
                    continue;
                }
                List<Double> tpsRatio = ratios(tps.get(ours), tps.get(other));
                List<Double> cpuRatio = ratios(cpuPerTx.get(ours), cpuPerTx.get(other));
                long ahead = tpsRatio.stream().filter(r -> r > 1).count();
                lines.add(ours.name() + " vs " + other.name() + ": more tps in " + ahead + " of " + tpsRatio.size()
                        + " rounds, tps ratio " + summary(tpsRatio, "more tps", "fewer tps")
                        // a kernel relay's process does next to nothing: its work is charged elsewhere
                        + (kernelRelayed(ours) || kernelRelayed(other) ? ", CPU not comparable (the kernel relays)"
                                : ", CPU per transaction ratio " + summary(cpuRatio, "more CPU", "less CPU")));
            }
        }
        return lines;
    }

    private static boolean kernelRelayed(Target t) {
        return SOCKMAP_RELAY.equals(t.name()) || KERNEL_CONMGR.equals(t.name());
    }

    private static List<Double> ratios(List<Double> a, List<Double> b) {
        List<Double> r = new ArrayList<>();
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            if (b.get(i) > 0 && !Double.isNaN(a.get(i))) {
                r.add(a.get(i) / b.get(i));
            }
        }
        return r;
    }

    /**
     * Mean with the range over the rounds and, from 3 rounds on, the 95 % confidence interval of the mean (Student's
     * t over the rounds' ratios) with what it says, e.g. "1.03 (0.97-1.08; 95 % CI 0.95-1.11: level)". Whether one
     * proxy is ahead of another is then read from the rounds, not from a mean that one lucky round can carry.
     */
    static String summary(List<Double> ratios, String above, String below) {
        if (ratios.isEmpty()) {
            return "n/a";
        }
        double min = ratios.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = ratios.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        String range = Table.fmt(min, 2) + "-" + Table.fmt(max, 2);
        if (ratios.size() < 3) {
            return Table.fmt(mean(ratios), 2) + " (" + range + ")";
        }
        SummaryStatistics stats = new SummaryStatistics();
        ratios.forEach(stats::addValue);
        double half = new TDistribution(ratios.size() - 1).inverseCumulativeProbability(0.975)
                * stats.getStandardDeviation() / Math.sqrt(ratios.size());
        double lo = stats.getMean() - half;
        double hi = stats.getMean() + half;
        String verdict = lo > 1 ? above : hi < 1 ? below : "level";
        return Table.fmt(stats.getMean(), 2) + " (" + range + "; 95 % CI " + Table.fmt(lo, 2) + "-" + Table.fmt(hi, 2)
                + ": " + verdict + ")";
    }

    /**
     * Packets sent over loopback so far (every packet of every path here crosses it once): per transaction, the
     * count shows what a proxy adds in segments and pure ACKs, which cost CPU on both ends beyond the system calls.
     */
    private static long loopbackPackets() {
        try {
            return Long.parseLong(Files.readString(Path.of("/sys/class/net/lo/statistics/tx_packets")).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A separate pass under strace: system calls per transaction of each proxy (throughput figures are not kept). */
    private static void syscalls(List<Target> targets, int clients, int threads, Duration duration) {
        Table table = new Table("Proxy data path: system calls per transaction (strace -c -f, pgbench -S, persistent and -C)",
                "path", "persistent connections", "new connection per transaction");
        for (Target t : targets) {
            if (t.pid() == 0) {
                continue;
            }
            List<String> cells = new ArrayList<>(List.of(t.name()));
            for (boolean connectPerTx : new boolean[] {false, true}) {
                Table.progress("overhead: strace " + t.name() + (connectPerTx ? " -C" : ""));
                long pid = worker(t.pid());
                try (Syscalls strace = new Syscalls(pid)) {
                    Pgbench.Result r = Pgbench.selectOnly("127.0.0.1", t.port(), clients, threads, duration, connectPerTx);
                    cells.add(Syscalls.perTransaction(strace.stop(), r.transactions()));
                }
            }
            table.row(cells.toArray());
        }
        table.note("strace slows the traced proxy several times over; these runs only count calls.");
        table.print();
    }

    /**
     * A second conmgr column for tuning experiments, same run: other JVM flags ({@code --alt-conmgr-java-opts})
     * and/or another build of the jar ({@code --alt-conmgr-jar}), labelled {@code --alt-label}.
     */
    private static Sidecars alternative(PgInstance pg, Options o) {
        List<String> args = new ArrayList<>();
        if (o.string("alt-conmgr-java-opts", null) != null) {
            args.addAll(List.of("--conmgr-java-opts", o.string("alt-conmgr-java-opts", null)));
        }
        if (o.string("alt-conmgr-jar", null) != null) {
            args.addAll(List.of("--conmgr-jar", o.string("alt-conmgr-jar", null)));
        }
        return args.isEmpty() ? null : Sidecars.startIfBuilt(List.of(pg), Options.parse(args.toArray(String[]::new)));
    }

    /** A separate pass under perf record: where each proxy's CPU goes (kernel, JIT code, JVM, libraries). */
    private static void perf(List<Target> targets, int clients, int threads, Duration duration, boolean symbols) {
        Table table = new Table("Proxy CPU by shared object (perf record -F 999 of the proxy process, pgbench -S)", "path",
                "persistent connections", "new connection per transaction");
        for (Target t : targets) {
            if (t.pid() == 0) {
                continue;
            }
            List<String> cells = new ArrayList<>(List.of(t.name()));
            for (boolean connectPerTx : new boolean[] {false, true}) {
                Table.progress("overhead: perf " + t.name() + (connectPerTx ? " -C" : ""));
                try (PerfDso perf = new PerfDso(worker(t.pid()), duration)) {
                    Pgbench.Result r = Pgbench.selectOnly("127.0.0.1", t.port(), clients, threads, duration, connectPerTx);
                    cells.add(Table.fmt(r.tps(), 0) + " tps: " + perf.report());
                    if (symbols) {
                        Table.progress("hottest symbols of " + t.name() + (connectPerTx ? " -C: " : ": ") + perf.topSymbols(15));
                    }
                }
            }
            table.row(cells.toArray());
        }
        table.print();
    }

    /** The process doing a target's work: the JVM below a launcher, or the child of a runuser wrapper. */
    private static long worker(long pid) {
        ProcessHandle h = ProcessHandle.of(pid).orElseThrow();
        long jvm = Sidecars.jvmBelow(h);
        if (jvm != pid) {
            return jvm;
        }
        return h.info().command().map(c -> c.endsWith("/runuser")).orElse(false)
                ? h.children().findFirst().map(ProcessHandle::pid).orElse(pid) : pid;
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
