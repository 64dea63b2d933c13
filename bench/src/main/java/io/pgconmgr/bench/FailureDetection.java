package io.pgconmgr.bench;

import io.pgconmgr.testkit.NetNamespace;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Silent cut of the database host's link (iptables DROP in its namespace) while queries are in flight:
 * when does each client see an error, and when does the server drop the dead client's backend?
 * Then the packets per second that 1,000 idle connections cost on that link.
 */
final class FailureDetection {

    static final String PREFIX = "bench_";
    static final String TUNED_LIBPQ = "keepalives=1 keepalives_idle=1 keepalives_interval=1 keepalives_count=3 tcp_user_timeout=3000";
    static final String SERVER_SIDE = "options='-c tcp_keepalives_idle=1 -c tcp_keepalives_interval=1 "
            + "-c tcp_keepalives_count=3 -c tcp_user_timeout=3000 -c client_connection_check_interval=1000'";

    private FailureDetection() {
    }

    static void run(Options o) throws Exception {
        Duration cap = o.seconds("cap", 60);
        int idle = o.integer("idle-connections", 1000);
        Duration window = o.seconds("window", 10);
        try (NetNamespace ns = NetNamespace.create();
             PgCluster cluster = PgCluster.builder().namePrefix("bench-detect").primaryIn(ns).start()) {
            PgInstance pg = cluster.primary();
            ServerWatch server = new ServerWatch(pg);
            String base = "host=" + pg.host() + " port=" + pg.port() + " user=postgres dbname=postgres";
            String jdbcUrl = "jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/postgres";
            Properties jdbcDefault = new Properties();
            jdbcDefault.setProperty("user", "postgres");
            Properties jdbcKeepalive = new Properties();
            jdbcKeepalive.putAll(jdbcDefault);
            jdbcKeepalive.setProperty("tcpKeepAlive", "true"); // else PgJDBC switches SO_KEEPALIVE off again
            jdbcKeepalive.setProperty("socketFactory", KeepaliveSocketFactory.class.getName());
            jdbcKeepalive.setProperty("socketFactoryArg", "1,1,3");

            List<InFlight> anchors = List.of(
                    InFlight.psql("libpq (psql), defaults", "keepalives=1, kernel defaults (idle 7200 s, 9 x 75 s)",
                            base, PREFIX + "libpq_default"),
                    InFlight.psql("libpq (psql), keepalive + tcp_user_timeout", TUNED_LIBPQ.replace("keepalives=1 ", ""),
                            base + " " + TUNED_LIBPQ, PREFIX + "libpq_tuned"),
                    InFlight.psql("libpq tuned + server keepalive + client_connection_check_interval",
                            "as above, plus server tcp_keepalives 1/1/3, tcp_user_timeout 3000, client_connection_check_interval 1000",
                            base + " " + TUNED_LIBPQ + " " + SERVER_SIDE, PREFIX + "libpq_both_ends"),
                    InFlight.jdbc("PgJDBC 42.7, defaults", "tcpKeepAlive=false, no socketTimeout", jdbcUrl, jdbcDefault,
                            PREFIX + "jdbc_default"),
                    InFlight.jdbc("PgJDBC 42.7, keepalive via socketFactory", "tcpKeepAlive=true; TCP_KEEPIDLE 1 s, KEEPINTVL 1 s, KEEPCNT 3",
                            jdbcUrl, jdbcKeepalive, PREFIX + "jdbc_keepalive"));
            Table table = new Table("Failure detection: silent cut (iptables DROP) of the database host, query in flight",
                    "client", "settings", "client error after cut", "server backend gone after cut", "client's error");
            cutAndWatch(ns, server, anchors, cap, table);
            try (Sidecars sidecars = Sidecars.startIfBuilt(List.of(pg), o)) {
                if (sidecars != null) {
                    cutAndWatch(ns, server, sidecars.detectionClients(PREFIX), cap, table);
                } else {
                    table.note("conmgr rows absent: " + Sidecars.missingReason());
                }
            }
            table.note("Each group of rows shares one cut; the conmgr rows get their own cut so the watchdog's terminator "
                    + "(which kills every backend from the lost conmgr's address) cannot take the anchors' backends.");
            table.note("Backend checks poll pg_stat_activity over the unix socket every ~100 ms; the cap is "
                    + cap.toSeconds() + " s.");
            table.print();
            idlePackets(ns, pg, idle, window, o);
        }
    }

    /** Starts the clients, shows them healthy, cuts the link, and records each client's and backend's end. */
    static void cutAndWatch(NetNamespace ns, ServerWatch server, List<InFlight> clients, Duration cap, Table table) {
        try {
            for (InFlight c : clients) {
                c.start();
            }
            awaitBackends(server, clients);
            Table.progress("detection: " + clients.size() + " queries in flight and their backends active; cutting " + ns);
            long t0 = System.nanoTime();
            ns.cut();
            Map<String, Long> goneAt = new HashMap<>();
            long deadline = t0 + cap.toNanos();
            while (System.nanoTime() < deadline) {
                Set<String> alive = server.applications(PREFIX);
                long now = System.nanoTime();
                for (InFlight c : clients) {
                    if (!alive.contains(c.appName)) {
                        goneAt.putIfAbsent(c.appName, now);
                    }
                }
                if (goneAt.size() == clients.size() && clients.stream().allMatch(c -> c.failedAt() != 0)) {
                    break;
                }
                Net.sleep(Duration.ofMillis(100));
            }
            for (InFlight c : clients) {
                Long gone = goneAt.get(c.appName);
                table.row(c.label, c.settings,
                        c.failedAt() == 0 ? "**still hanging at " + cap.toSeconds() + " s**" : Table.secs(c.failedAt() - t0),
                        gone == null ? "**still alive at " + cap.toSeconds() + " s**" : Table.secs(gone - t0),
                        c.failedAt() == 0 ? "-" : c.failure());
            }
        } finally {
            ns.restore();
            clients.forEach(InFlight::close);
            server.terminate(PREFIX);
        }
    }

    private static void awaitBackends(ServerWatch server, List<InFlight> clients) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            // Running the query, not just connected: a cut before the query is sent leaves it unacknowledged,
            // and a client that has only keepalive then retransmits for some 15 minutes instead of probing.
            Set<String> alive = server.activeApplications(PREFIX);
            List<String> missing = new ArrayList<>();
            for (InFlight c : clients) {
                if (!alive.contains(c.appName)) {
                    missing.add(c.appName);
                }
                if (c.failedAt() != 0) {
                    throw new IllegalStateException(c.label + " failed before the cut: " + c.failure());
                }
            }
            if (missing.isEmpty()) {
                // Time for the server's (possibly delayed) acknowledgement of each query to reach the client.
                Net.sleep(Duration.ofMillis(300));
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("backends of " + missing + " not active after 30 s");
            }
            Net.sleep(Duration.ofMillis(100));
        }
    }

    /** Packets per second on the test host's link for idle connections with keepalive tuned vs. default. */
    private static void idlePackets(NetNamespace ns, PgInstance pg, int connections, Duration window, Options o)
            throws Exception {
        Table table = new Table("Keepalive load: packets per second on the database host's link, " + connections
                + " idle connections from one client host", "approach", "settings", "measured pps (both directions)",
                "expected pps");
        try (IdleConnections sink = IdleConnections.startSink(ns)) {
            double tuned = sink.measure(connections, window, s -> KeepaliveSocketFactory.tune(s, 1, 1, 3));
            table.row("per-socket TCP keepalive, tuned (libpq keepalives_idle=1 / PgJDBC socketFactory)",
                    "idle 1 s, interval 1 s", Table.fmt(tuned, 0), Table.fmt(2.0 * connections, 0)
                            + " (one probe + one ACK per connection per second)");
            double defaults = sink.measure(connections, window, s -> {
                s.setKeepAlive(true);
                return s;
            });
            table.row("per-socket TCP keepalive, kernel defaults", "idle 7200 s", Table.fmt(defaults, 1),
                    Table.fmt(2.0 * connections / 7200, 2) + " (but a cut goes unnoticed for 2 h 11 min)");
        }
        if (Sidecars.missingReason() != null) {
            table.note("conmgr row absent: " + Sidecars.missingReason());
        } else {
            // conmgr proxies the idle connections to a sink on the test host; its watchdog watches the real instance.
            try (IdleConnections sink = IdleConnections.startSink(ns);
                 Sidecars sidecars = Sidecars.start(List.of(new Sidecars.Member(pg, ns.hostAddress(), sink.port())), o)) {
                double pps = sink.measureThroughConmgr(connections, window, sidecars.conmgrPort());
                table.row("conmgr: one heartbeat link per instance, proxied connections without keepalive",
                        sidecars.describe() + "; " + sink.proxiedSeen() + " proxied connections open at the far end",
                        Table.fmt(pps, 1),
                        "~4 (a heartbeat each way per interval, plus their ACKs), whatever the number of connections");
            }
        }
        table.note("Measured with the kernel's packet counters of the test host's veth over " + window.toSeconds()
                + " s; the far end is a sink process in the namespace, so no PostgreSQL backend per connection is needed.");
        table.print();
    }
}
