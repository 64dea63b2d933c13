package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.net.InetAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The terminator against real backends: whose are ended, whose survive, and when. */
class TerminatorTest {
  private static PgCluster cluster;
  private static PgInstance pg;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void startPostgres() throws Exception {
    cluster = Pg.cluster(1); // the standby's walsender connects from 127.0.0.1
    pg = cluster.primary();
  }

  @AfterAll
  static void stopPostgres() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private <T extends AutoCloseable> T track(T c) {
    toClose.add(0, c);
    return c;
  }

  private Connection sql(String ip) throws Exception {
    return track(Pg.connectFrom(pg, ip));
  }

  @Test
  void silentPeerIsLostAfterItsTimeoutAndOnlyItsBackendsAreTerminated() throws Exception {
    Watchdog w = track(Watchdog.start(Pg.settings(pg).checkAttrIntervalMs(200).build()));
    TestPeer silent = track(TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 1500));
    TestPeer other = track(TestPeer.session("127.0.0.3", w.heartbeatAddress(), 200, 1500));
    TestPeer sharedA = track(TestPeer.session("127.0.0.4", w.heartbeatAddress(), 200, 1500));
    TestPeer sharedB = track(TestPeer.session("127.0.0.4", w.heartbeatAddress(), 200, 1500));
    Connection silentsClient = sql("127.0.0.2");
    Connection silentsSecondClient = sql("127.0.0.2");
    Connection othersClient = sql("127.0.0.3");
    Connection sharedClient = sql("127.0.0.4");

    // Healthy: all four sessions stay up well past their timeout, every backend answers.
    Thread.sleep(2500);
    assertThat(w.sessions()).hasSize(4);
    assertThat(List.of(silentsClient, silentsSecondClient, othersClient, sharedClient))
        .allMatch(Pg::alive);
    assertThat(w.terminatedBackends()).isZero();

    // Fault: one peer stops sending with its socket open; one of two sessions of another IP too.
    long t0 = System.nanoTime();
    silent.fallSilent();
    sharedA.fallSilent();
    await().atMost(Duration.ofSeconds(10)).until(() -> !Pg.alive(silentsClient));
    System.out.printf("silent peer (timeout 1500 ms): backend terminated %d ms after its last"
        + " heartbeat%n", (System.nanoTime() - t0) / 1_000_000);
    await().atMost(Duration.ofSeconds(5)).until(() -> !Pg.alive(silentsSecondClient));
    assertThat(w.sessions()).extracting(s -> s.address().getHostAddress())
        .containsExactlyInAnyOrder("127.0.0.3", "127.0.0.4");
    silent.awaitClosed(Duration.ofSeconds(5));
    sharedA.awaitClosed(Duration.ofSeconds(5));
    assertThat(Pg.alive(othersClient)).as("another IP's backend").isTrue();
    assertThat(Pg.alive(sharedClient)).as("backend of an IP with a live session").isTrue();
    assertThat(w.terminatedBackends()).isEqualTo(2);
    assertThat(w.scrapeMetrics()).contains("watchdog_peers_lost_total{reason=\"timeout\"} 2.0")
        .contains("watchdog_backends_terminated_total 2.0");

    // A new client of the lost IP (a new pod with the same IP) is left alone.
    Connection newcomer = sql("127.0.0.2");
    Thread.sleep(1000);
    assertThat(Pg.alive(newcomer)).isTrue();
    assertThat(sharedB.isOpen()).isTrue();
  }

  @Test
  void goodbyeTerminatesTheBackendsAtOnce() throws Exception {
    Watchdog w = track(Watchdog.start(Pg.settings(pg).build()));
    // A timeout of a minute: only the goodbye can explain a termination within the test.
    TestPeer leaving = track(TestPeer.session("127.0.0.5", w.heartbeatAddress(), 500, 60_000));
    TestPeer staying = track(TestPeer.session("127.0.0.6", w.heartbeatAddress(), 500, 60_000));
    Connection leavingClient = sql("127.0.0.5");
    Connection stayingClient = sql("127.0.0.6");
    await().atMost(Duration.ofSeconds(5)).until(() -> w.sessions().size() == 2);
    assertThat(Pg.alive(leavingClient)).isTrue();

    long t0 = System.nanoTime();
    leaving.goodbye("conmgr stopping");
    await().atMost(Duration.ofSeconds(5)).until(() -> !Pg.alive(leavingClient));
    System.out.printf("goodbye -> backend terminated in %d ms%n",
        (System.nanoTime() - t0) / 1_000_000);
    assertThat(Pg.alive(stayingClient)).isTrue();
    assertThat(staying.isOpen()).isTrue();
    assertThat(w.scrapeMetrics()).contains("watchdog_peers_lost_total{reason=\"goodbye\"} 1.0");
  }

  @Test
  void aWatchdogThatIsNoSuperuserTerminatesWhatItMayAndKeepsSuperuserBackends() throws Exception {
    // The least-privilege role of docs/watchdog.md; it may not terminate a superuser's backend.
    createRole("wd_least LOGIN IN ROLE pg_monitor, pg_signal_backend");
    createRole("wd_app LOGIN");
    Watchdog w = track(Watchdog.start(WatchdogSettings.builder(pg.conninfo("postgres")
            .replace("user=" + PgInstance.SUPERUSER, "user=wd_least"))
        .port(0).httpPort(0).listenAddress("127.0.0.1").build()));
    TestPeer leaving = track(TestPeer.session("127.0.0.10", w.heartbeatAddress(), 500, 60_000));
    Connection superusers = sql("127.0.0.10");
    Connection apps = track(connectAs("wd_app", "127.0.0.10"));
    await().atMost(Duration.ofSeconds(5)).until(() -> w.sessions().size() == 1);
    assertThat(Pg.alive(superusers)).isTrue();
    assertThat(Pg.alive(apps)).isTrue();

    leaving.goodbye("conmgr stopping");

    // Before the fix the superuser's backend failed the whole statement: nothing was terminated.
    await().atMost(Duration.ofSeconds(10)).until(() -> !Pg.alive(apps));
    Thread.sleep(1000);
    assertThat(Pg.alive(superusers)).as("a superuser's backend, out of the role's reach").isTrue();
    assertThat(w.terminatedBackends()).isEqualTo(1);
  }

  private static void createRole(String definition) {
    pg.execute("DO $$BEGIN CREATE ROLE " + definition
        + "; EXCEPTION WHEN duplicate_object THEN NULL; END$$");
  }

  private static Connection connectAs(String user, String sourceIp) throws Exception {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("localSocketAddress", sourceIp);
    p.setProperty("connectTimeout", "10");
    return DriverManager.getConnection(
        pg.jdbcUrl("postgres").replace("?user=" + PgInstance.SUPERUSER, ""), p);
  }

  @Test
  void sparesBackendsThatStartedAfterTheLossItsOwnConnectionsAndReplication() throws Exception {
    Watchdog w = track(Watchdog.start(Pg.settings(pg).build()));
    Connection before = sql("127.0.0.7");
    Thread.sleep(200);
    Instant loss = Instant.now();
    Thread.sleep(200);
    Connection after = sql("127.0.0.7");
    assertThat(Pg.alive(before)).isTrue();

    // Straight to the terminator: as if the peer at 127.0.0.7 had been lost at `loss`.
    Terminator t = new Terminator(w.settings(), new WatchdogMetrics(), ip -> false, () -> -1);
    track(t);
    t.start();
    t.peerLost(InetAddress.getByName("127.0.0.7"), loss);
    await().atMost(Duration.ofSeconds(5)).until(() -> !Pg.alive(before));
    Thread.sleep(500);
    assertThat(Pg.alive(after)).isTrue();

    // The watchdog's own connections and the standby's replication connection come from
    // 127.0.0.1 like this client; only the client is terminated.
    String walsender = pg.queryScalar("SELECT pid FROM pg_stat_activity"
        + " WHERE backend_type = 'walsender' AND client_addr = '127.0.0.1'");
    assertThat(walsender).isNotNull();
    Connection local = sql("127.0.0.1");
    t.peerLost(InetAddress.getByName("127.0.0.1"), Instant.now());
    await().atMost(Duration.ofSeconds(5)).until(() -> !Pg.alive(local));
    assertThat(pg.queryScalar("SELECT count(*) FROM pg_stat_activity WHERE application_name"
        + " IN ('pgconmgr-watchdog-checker', 'pgconmgr-watchdog-terminator')")).isEqualTo("3");
    assertThat(w.attributes().reachable()).isTrue();
    assertThat(pg.queryScalar("SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender'"))
        .isEqualTo(walsender);
  }

  @Test
  void restartedWatchdogTerminatesBackendsOfPeersThatDoNotComeBack(@TempDir Path dir)
      throws Exception {
    Path state = dir.resolve("watchdog.peers");
    WatchdogSettings settings = Pg.settings(pg).stateFile(state).build();
    Watchdog first = Watchdog.start(settings);
    TestPeer gone = TestPeer.session("127.0.0.8", first.heartbeatAddress(), 300, 2000);
    TestPeer back = TestPeer.session("127.0.0.9", first.heartbeatAddress(), 300, 2000);
    Connection goneClient = sql("127.0.0.8");
    Connection backClient = sql("127.0.0.9");
    await().atMost(Duration.ofSeconds(5)).until(() -> first.sessions().size() == 2);
    await().atMost(Duration.ofSeconds(5)).until(() -> SessionFiles.readState(state).size() == 2);

    // The watchdog stops (a crash or a rolling update): nothing is terminated by the stop.
    first.close();
    gone.close();
    back.close();
    assertThat(Pg.alive(goneClient)).isTrue();
    assertThat(Pg.alive(backClient)).isTrue();

    Watchdog second = track(Watchdog.start(settings));
    track(TestPeer.session("127.0.0.9", second.heartbeatAddress(), 300, 2000));
    await().atMost(Duration.ofSeconds(10)).until(() -> !Pg.alive(goneClient));
    Thread.sleep(500);
    assertThat(Pg.alive(backClient)).isTrue();
    assertThat(second.scrapeMetrics())
        .contains("watchdog_peers_lost_total{reason=\"restart\"} 1.0")
        .contains("watchdog_peers_awaited 0.0");
    await().atMost(Duration.ofSeconds(5)).until(() -> SessionFiles.readState(state).stream()
        .map(p -> p.address().getHostAddress()).toList().equals(List.of("127.0.0.9")));
  }
}
