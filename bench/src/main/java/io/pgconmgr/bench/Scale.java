package io.pgconmgr.bench;

import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import io.pgconmgr.testkit.ServerUser;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One watchdog holding many heartbeat sessions at a 1 s interval (CPU, memory per session, heartbeat
 * jitter), and one conmgr holding many idle proxied connections (memory per connection, where it breaks).
 */
final class Scale {

    private Scale() {
    }

    static void run(Options o) throws Exception {
        if (Sidecars.missingReason() != null) {
            System.out.println("\n### Scale\n\nnot measured: " + Sidecars.missingReason());
            return;
        }
        int sessions = o.integer("sessions", 10_000);
        int proxied = o.integer("proxied", 10_000);
        Duration window = o.seconds("window", 20);
        try (PgCluster cluster = PgCluster.builder().namePrefix("bench-scale").start()) {
            PgInstance pg = cluster.primary();
            watchdogSessions(pg, sessions, window, o);
            conmgrConnections(pg, proxied, window, o);
        }
    }

    private static void watchdogSessions(PgInstance pg, int n, Duration window, Options o) {
        Options wo = Options.parse("--max-heartbeat-connections", String.valueOf(n + 100),
                "--check-attr-interval", String.valueOf(o.integer("check-attr-interval", 1000)));
        Table table = new Table("Scale: one watchdog, " + n + " heartbeat sessions (interval 1 s, timeout 3 s), each from "
                + "its own 127.1.x.y address", "figure", "value");
        try (Sidecars sidecars = Sidecars.watchdogs(List.of(pg), wo)) {
            Sidecars.Watchdog w = sidecars.watchdogs().get(0);
            long pid = w.jvmPid();
            Net.sleep(Duration.ofSeconds(2));
            long rss0 = Proc.rssKib(pid);
            long heap0 = Jvm.heapAfterGcKib(pid, null);
            try (HeartbeatLoad load = new HeartbeatLoad(1000, 3000)) {
                long t0 = System.nanoTime();
                Table.progress("scale: opening " + n + " heartbeat sessions");
                load.open(w.address(), w.port(), n, o.integer("ramp", 1000), Duration.ofSeconds(60));
                long opened = System.nanoTime() - t0;
                Net.sleep(Duration.ofSeconds(3));
                load.recordGaps();
                long cpu0 = Proc.cpuMillis(pid);
                long c0 = System.nanoTime();
                Net.sleep(window);
                double cpuPct = (Proc.cpuMillis(pid) - cpu0) * 1e6 / (System.nanoTime() - c0) * 100;
                long rss1 = Proc.rssKib(pid);
                long heap1 = Jvm.heapAfterGcKib(pid, null);
                int live = load.established() - load.ended();
                table.row("sessions established / asked", load.established() + " / " + n
                        + " (connect failures: " + load.connectFailures() + ")");
                table.row("time to establish all", Table.secs(opened) + " (ramp " + o.integer("ramp", 1000) + "/s)");
                table.row("sessions ended by the watchdog during the run", load.ended()
                        + (load.ended() > 0 ? " (last reason: " + load.lastEndReason() + ")" : ""));
                table.row("watchdog sessions gauge", metric(w.metricsUrl(), "watchdog_sessions"));
                table.row("watchdog CPU over " + window.toSeconds() + " s", Table.fmt(cpuPct, 1) + " % of one core");
                table.row("watchdog RSS idle -> with sessions", rss0 / 1024 + " MiB -> " + rss1 / 1024 + " MiB ("
                        + perSession(rss1 - rss0, live) + " per session)");
                table.row("watchdog heap after GC idle -> with sessions", heap0 / 1024 + " MiB -> " + heap1 / 1024 + " MiB ("
                        + perSession(heap1 - heap0, live) + " per session)");
                table.row("gap between heartbeats received from the watchdog (p50 / p99 / p99.9 / max)",
                        load.gapPercentile(0.5) + " / " + load.gapPercentile(0.99) + " / " + load.gapPercentile(0.999)
                                + " / " + load.gapPercentile(1.0) + " ms over " + load.gapCount() + " gaps (ideal: 1000)");
                table.note("JVM flags of the watchdog launcher: " + Sidecars.watchdogJavaOpts());
                table.note("The peers run in the benchmark's JVM (2 event-loop threads) on the same 2 cores, so the gaps include "
                        + "the peers' own scheduling delays.");
            }
        }
        table.print();
    }

    private static void conmgrConnections(PgInstance pg, int n, Duration window, Options o) throws IOException {
        Table table = new Table("Scale: one conmgr, " + n + " idle proxied connections (far end: a sink process, "
                + "not " + n + " PostgreSQL backends)", "figure", "value");
        long hardLimit = fdHardLimit();
        try (IdleConnections sink = IdleConnections.startSink(null);
             Sidecars sidecars = Sidecars.start(List.of(new Sidecars.Member(pg, "127.0.0.1", sink.port())), o)) {
            long pid = sidecars.conmgrJvmPid();
            Net.sleep(Duration.ofSeconds(2));
            long rss0 = Proc.rssKib(pid);
            long heap0 = Jvm.heapAfterGcKib(pid, ServerUser.NAME);
            List<Socket> sockets = new ArrayList<>(n);
            byte[] startup = PgWire.startup("user", "postgres", "database", "postgres");
            String firstFailure = "";
            long t0 = System.nanoTime();
            Table.progress("scale: opening " + n + " connections through conmgr");
            try {
                for (int i = 0; i < n; i++) {
                    try {
                        Socket s = new Socket();
                        sockets.add(s);
                        s.connect(new InetSocketAddress("127.0.0.1", sidecars.conmgrPort()), 5000);
                        s.getOutputStream().write(startup);
                    } catch (IOException e) {
                        if (firstFailure.isEmpty()) {
                            firstFailure = "connection " + (i + 1) + ": " + e.getMessage();
                        }
                    }
                }
                long opened = System.nanoTime() - t0;
                Net.sleep(Duration.ofSeconds(5));
                int atSink = sink.establishedAtSink();
                long cpu0 = Proc.cpuMillis(pid);
                long c0 = System.nanoTime();
                Net.sleep(window);
                double cpuPct = (Proc.cpuMillis(pid) - cpu0) * 1e6 / (System.nanoTime() - c0) * 100;
                long rss1 = Proc.rssKib(pid);
                long heap1 = Jvm.heapAfterGcKib(pid, ServerUser.NAME);
                int stillOpen = countOpen(sockets);
                table.row("client connections made (TCP handshake done) / still open after " + (5 + window.toSeconds()) + " s",
                        n + " / " + stillOpen + (firstFailure.isEmpty() ? "" : " (first failure: " + firstFailure + ")"));
                table.row("proxied connections established at the far end", atSink);
                String refused = Table.fmt(Http.metric(Http.get(sidecars.conmgrMetricsUrl()),
                        "conmgr_clients_refused_total{reason=\"open_files\"}", Double::sum), 0);
                table.row("refused by conmgr at accept, beyond its open-files limit (conmgr_clients_refused_total{reason=\"open_files\"})",
                        refused);
                table.row("client connections left open but unserved", Math.max(0, stillOpen - atSink));
                table.row("conmgr's budget, from its startup log", sidecars.conmgrLog("open-files limit \\d+: room for").stream()
                        .findFirst().map(l -> l.substring(l.indexOf("open-files limit"))).orElse("(no such log line)"));
                table.row("time to open all", Table.secs(opened));
                table.row("conmgr file descriptors open", openFds(pid) + " (hard limit of this machine: " + hardLimit + ")");
                table.row("conmgr CPU while idle over " + window.toSeconds() + " s", Table.fmt(cpuPct, 1) + " % of one core");
                table.row("conmgr RSS idle -> with connections", rss0 / 1024 + " MiB -> " + rss1 / 1024 + " MiB ("
                        + perSession(rss1 - rss0, atSink) + " per proxied connection)");
                table.row("conmgr heap after GC idle -> with connections", heap0 / 1024 + " MiB -> " + heap1 / 1024
                        + " MiB (" + perSession(heap1 - heap0, atSink) + " per proxied connection)");
                if (atSink < n) {
                    table.note((n - atSink) + " client connections got no instance-side connection. conmgr refuses the clients "
                            + "its open-files limit cannot hold (closed right after accept, logged, counted); without that, at EMFILE "
                            + "it could not accept them and they would wait in the kernel's accept queue, open but unserved.");
                }
                table.note("JVM flags of the conmgr launcher: " + Sidecars.conmgrJavaOpts(o));
                table.note("Every proxied connection costs conmgr two sockets (client side, instance side), so one process "
                        + "under this machine's hard limit of " + hardLimit + " open files cannot hold " + hardLimit / 2
                        + " or more; raising the limit needs CAP_SYS_RESOURCE, which this machine's root lacks.");
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
            }
        }
        table.print();
    }

    private static int countOpen(List<Socket> sockets) {
        int open = 0;
        for (Socket s : sockets) {
            if (!s.isConnected() || s.isClosed()) {
                continue;
            }
            try {
                s.setSoTimeout(1);
                int b = s.getInputStream().read();
                if (b >= 0) {
                    open++; // conmgr sent something (an error?) but kept it open
                }
            } catch (java.net.SocketTimeoutException e) {
                open++; // nothing to read: still open
            } catch (IOException e) {
                // reset: closed by conmgr
            }
        }
        return open;
    }

    static String perSession(long kib, int sessions) {
        return sessions <= 0 ? "n/a" : Table.fmt(kib * 1024.0 / sessions / 1024, 1) + " KiB";
    }

    private static String metric(String url, String name) {
        return Table.fmt(Http.metric(Http.get(url), name, Double::sum), 0);
    }

    private static long openFds(long pid) {
        String[] fds = new java.io.File("/proc/" + pid + "/fd").list();
        return fds == null ? -1 : fds.length;
    }

    private static long fdHardLimit() {
        Proc.Result r = Proc.run(List.of("sh", "-c", "ulimit -Hn"), Duration.ofSeconds(5));
        try {
            return Long.parseLong(r.output().trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
