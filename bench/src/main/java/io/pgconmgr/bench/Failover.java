package io.pgconmgr.bench;

import io.pgconmgr.testkit.NetNamespace;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Promotes the standby while the old primary's host is silently cut, and times the first read-write
 * connection of each client kind from the promote command, then how long each later connection takes
 * (clients that list the dead host first keep paying its connect timeout).
 */
final class Failover {

    /** One way of getting a read-write connection; returns where it landed or throws. */
    interface Connector {
        String connect() throws Exception;
    }

    /** A client kind's loop: first success after t0 and the connect times of the next few connections. */
    static final class Loop implements Runnable {
        final String label;
        final String settings;
        final Connector connector;
        volatile long t0;
        volatile long firstSuccessAt;
        volatile String landedOn = "";
        volatile String lastError = "";
        final List<Long> laterConnectNanos = new ArrayList<>();
        volatile long deadline;
        final CountDownLatch done = new CountDownLatch(1);

        Loop(String label, String settings, Connector connector) {
            this.label = label;
            this.settings = settings;
            this.connector = connector;
        }

        @Override
        public void run() {
            try {
                while (System.nanoTime() < deadline && laterConnectNanos.size() < 5) {
                    long a = System.nanoTime();
                    try {
                        String where = connector.connect();
                        if (firstSuccessAt == 0) {
                            firstSuccessAt = System.nanoTime();
                            landedOn = where;
                        } else {
                            laterConnectNanos.add(System.nanoTime() - a);
                        }
                        Net.sleep(Duration.ofSeconds(1)); // an application (re)connecting now and then, not in a burst
                    } catch (Exception e) {
                        lastError = String.valueOf(e.getMessage()).replace('\n', ' ').replace('|', '/');
                        Net.sleep(Duration.ofMillis(10));
                    }
                }
            } finally {
                done.countDown();
            }
        }
    }

    private Failover() {
    }

    static void run(Options o) throws Exception {
        Duration cap = o.seconds("cap", 30);
        int trials = o.integer("trials", 3);
        Table table = new Table("Failover: old primary's host silently cut, then pg_ctl promote of the standby ("
                + trials + " trials, each on a new cluster)", "client", "settings",
                "first read-write connection after promote, each trial", "next connections (each, last trial)",
                "landed on / last error before success (last trial)");
        java.util.Map<String, List<String>> firsts = new java.util.LinkedHashMap<>();
        List<Loop> last = List.of();
        List<String> promotes = new ArrayList<>();
        for (int trial = 1; trial <= trials; trial++) {
            Table.progress("failover: trial " + trial);
            last = trial(o, cap, table, trial == 1, promotes);
            for (Loop l : last) {
                firsts.computeIfAbsent(l.label, k -> new ArrayList<>()).add(
                        l.firstSuccessAt == 0 ? "none within " + cap.toSeconds() + " s" : Table.secs(l.firstSuccessAt - l.t0));
            }
        }
        for (Loop l : last) {
            table.row(l.label, l.settings, firsts.get(l.label),
                    l.laterConnectNanos.stream().map(n -> Table.fmt(n / 1e6, 0) + " ms").toList(),
                    l.firstSuccessAt == 0 ? l.lastError : l.landedOn);
        }
        table.note("pg_ctl promote -w plus the test kit's check that the standby left recovery took " + promotes
                + "; every time is counted from the promote command, which starts right after the cut. All clients loop side "
                + "by side (10 ms pause after a failure); after the first success each makes 5 more connections, one a second, "
                + "to show what every later connection costs while the old host stays dead.");
        table.print();
    }

    /** One cluster, one cut, one promotion; returns the loops with their figures. */
    private static List<Loop> trial(Options o, Duration cap, Table table, boolean first, List<String> promotes) throws Exception {
        // Only the old primary needs a test host of its own: its link is the one cut.
        try (NetNamespace nsA = NetNamespace.create();
             PgCluster cluster = PgCluster.builder().namePrefix("bench-failover").standbys(1).primaryIn(nsA).start()) {
            PgInstance a = cluster.primary();
            PgInstance b = cluster.standby(0);
            String hosts = "host=" + a.host() + "," + b.host() + " port=" + a.port() + "," + b.port();
            String libpq = hosts + " user=postgres dbname=postgres target_session_attrs=read-write connect_timeout=2";
            String jdbc = "jdbc:postgresql://" + a.host() + ":" + a.port() + "," + b.host() + ":" + b.port()
                    + "/postgres?user=postgres&targetServerType=primary&hostRecheckSeconds=1&connectTimeout=2&socketTimeout=10";
            List<Loop> loops = new ArrayList<>(List.of(
                    new Loop("libpq (psql) multi-host", "target_session_attrs=read-write, connect_timeout=2, old primary listed first",
                            () -> psqlReadWrite(libpq)),
                    new Loop("PgJDBC 42.7 multi-host", "targetServerType=primary, hostRecheckSeconds=1, connectTimeout=2",
                            () -> jdbcReadWrite(jdbc))));
            try (Sidecars sidecars = Sidecars.startIfBuilt(List.of(a, b), o)) {
                if (sidecars != null) {
                    loops.add(new Loop("conmgr (proxy mode), psql", sidecars.describe(),
                            () -> psqlReadWrite("host=127.0.0.1 port=" + sidecars.conmgrPort() + " user=postgres dbname=postgres")));
                    loops.add(new Loop("conmgr aware client, PgJDBC", "asks conmgr for a read-write instance, connects to it "
                            + "directly (PgJDBC connectTimeout=2) and gives the connect up on a failure notice, then asks again", () -> awareReadWrite(sidecars.conmgrPort())));
                } else if (first) {
                    table.note("conmgr rows absent: " + Sidecars.missingReason());
                }
                for (Loop l : loops) {
                    String where = l.connector.connect();
                    if (first) {
                        table.note("healthy before the cut: " + l.label + " -> " + where);
                    }
                }
                nsA.cut();
                long t0 = System.nanoTime();
                for (Loop l : loops) {
                    l.t0 = t0;
                    l.deadline = t0 + cap.toNanos();
                    Thread t = new Thread(l, "failover-" + l.label);
                    t.setDaemon(true);
                    t.start();
                }
                b.promote();
                promotes.add(Table.secs(System.nanoTime() - t0));
                for (Loop l : loops) {
                    l.done.await();
                }
                return loops;
            }
        }
    }

    /** psql with a libpq conninfo; answers server address:port when the session is read-write. */
    static String psqlReadWrite(String conninfo) {
        Proc.Result r = Proc.run(List.of("psql", "-X", "-At", conninfo, "-c",
                "select host(inet_server_addr()) || ':' || inet_server_port() || ' ' || pg_is_in_recovery()"), Duration.ofSeconds(30));
        String out = r.output().trim();
        if (r.exitCode() != 0 || !out.endsWith(" false")) {
            throw new IllegalStateException(out.isEmpty() ? "psql exit " + r.exitCode() : out.lines().reduce((x, y) -> y).orElse(out));
        }
        return out.substring(0, out.length() - " false".length());
    }

    static String awareReadWrite(int conmgrPort) throws Exception {
        java.util.Properties props = new java.util.Properties();
        props.setProperty("user", "postgres");
        props.setProperty("connectTimeout", "2");
        try (AwareClient c = AwareClient.connect("127.0.0.1", conmgrPort, "read-write", "postgres", props);
             Statement st = c.connection().createStatement();
             ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new IllegalStateException("landed on a standby " + c.instanceAddress());
            }
            return c.instanceAddress();
        }
    }

    static String jdbcReadWrite(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select host(inet_server_addr()) || ':' || inet_server_port(), pg_is_in_recovery()")) {
            rs.next();
            if (rs.getBoolean(2)) {
                throw new IllegalStateException("landed on a standby " + rs.getString(1));
            }
            return rs.getString(1);
        }
    }
}
