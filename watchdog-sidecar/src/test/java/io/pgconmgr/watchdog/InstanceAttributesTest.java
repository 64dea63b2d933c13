package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.protocol.heartbeat.Heartbeat;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What peers learn about the instance: primary and standby attributes, a promotion, the
 * instance going down and coming back, and pgx_stat_watchdog read with SQL on both roles.
 * Each test has its own cluster: they change roles and stop servers.
 */
class InstanceAttributesTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static long sysid(PgInstance pg) {
    return Long.parseLong(pg.queryScalar("SELECT system_identifier FROM pg_control_system()"));
  }

  @Test
  void standbyWatchdogReportsAStandbyAndPushesItsPromotionWithinTheCheckInterval()
      throws Exception {
    try (PgCluster cluster = Pg.cluster(1);
         Watchdog onPrimary = Watchdog.start(Pg.settings(cluster.primary()).build());
         Watchdog onStandby = Watchdog.start(Pg.settings(cluster.standby(0)).build());
         TestPeer toPrimary = TestPeer.session("127.0.0.2", onPrimary.heartbeatAddress(), 500,
             5000);
         TestPeer toStandby = TestPeer.session("127.0.0.2", onStandby.heartbeatAddress(), 500,
             5000)) {
      long system = sysid(cluster.primary());
      Attributes primary = toPrimary.awaitAttributes(Duration.ofSeconds(5), a -> true).frame()
          instanceof Attributes a ? a : null;
      assertThat(primary).isNotNull();
      assertThat(primary.reachable()).isTrue();
      assertThat(primary.inRecovery()).isFalse();
      assertThat(primary.isWritable()).isTrue();
      assertThat(primary.timeline()).isEqualTo(1);
      assertThat(primary.systemIdentifier()).isEqualTo(system);
      assertThat(primary.replayLagMs()).isEqualTo(-1);
      assertThat(primary.serverVersionNum()).isBetween(170000, 179999);

      Attributes standby = (Attributes) toStandby.awaitAttributes(Duration.ofSeconds(5),
          a -> true).frame();
      assertThat(standby.reachable()).isTrue();
      assertThat(standby.inRecovery()).isTrue();
      assertThat(standby.isWritable()).isFalse();
      assertThat(standby.timeline()).isEqualTo(1);
      assertThat(standby.systemIdentifier()).isEqualTo(system);
      assertThat(standby.replayLagMs()).isGreaterThanOrEqualTo(0);

      cluster.standby(0).promote();
      long promotedAt = System.nanoTime();
      TestPeer.Received pushed = toStandby.awaitAttributes(Duration.ofSeconds(10),
          a -> !a.inRecovery());
      long ms = (pushed.atNanos() - promotedAt) / 1_000_000;
      System.out.printf("promotion pushed %d ms after pg_ctl promote returned"
          + " (check_attr_interval 1000 ms)%n", ms);
      assertThat(ms).isLessThan(1000 + 1500);
      Attributes after = (Attributes) pushed.frame();
      assertThat(after.isWritable()).isTrue();
      assertThat(after.timeline()).isEqualTo(2);
      assertThat(after.systemIdentifier()).isEqualTo(system);
      assertThat(after.replayLagMs()).isEqualTo(-1);
    }
  }

  @Test
  void peersSeeUnreachableWhilePostgresIsDownAndTheRealAttributesWhenItIsBack()
      throws Exception {
    try (PgCluster cluster = Pg.cluster(0);
         Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).checkAttrIntervalMs(200)
             .build());
         TestPeer peer = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 3000)) {
      PgInstance pg = cluster.primary();
      Attributes up = (Attributes) peer.awaitAttributes(Duration.ofSeconds(5),
          Attributes::reachable).frame();
      assertThat(get(w, "/ready").statusCode()).isEqualTo(200);

      pg.stop();
      peer.awaitAttributes(Duration.ofSeconds(10), a -> a.equals(Attributes.UNREACHABLE));
      assertThat(get(w, "/ready").statusCode()).isEqualTo(503);
      assertThat(get(w, "/live").statusCode()).isEqualTo(200);
      // The session outlives the outage: heartbeats keep flowing while PostgreSQL is down.
      int beats = peer.frames(Heartbeat.class).size();
      await().atMost(Duration.ofSeconds(5))
          .until(() -> peer.frames(Heartbeat.class).size() >= beats + 3);
      assertThat(peer.isOpen()).isTrue();

      int framesBefore = peer.frames(Attributes.class).size();
      pg.start();
      await().atMost(Duration.ofSeconds(15)).until(() -> peer.frames(Attributes.class).size()
          > framesBefore && peer.lastAttributes().orElseThrow().reachable());
      assertThat(peer.lastAttributes()).contains(up);
      assertThat(get(w, "/ready").statusCode()).isEqualTo(200);
      assertThat(peer.frames(Attributes.class)).hasSize(3); // up, down, up: no noise
      assertThat(w.scrapeMetrics()).contains("watchdog_attribute_changes_total 3.0")
          .contains("watchdog_instance_reachable 1.0");
    }
  }

  @Test
  void aFrozenInstanceIsReportedUnreachableWhenANewConnectionTimesOutToo() throws Exception {
    ch.qos.logback.classic.Logger checkerLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(AttributeChecker.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
        new ch.qos.logback.core.read.ListAppender<>();
    logged.start();
    checkerLog.addAppender(logged);
    try (PgCluster cluster = Pg.cluster(0);
         Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).checkAttrIntervalMs(200)
             .checkTimeoutMs(1000).build());
         TestPeer peer = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 3000)) {
      peer.awaitAttributes(Duration.ofSeconds(5), Attributes::reachable);
      Thread.sleep(1000);
      assertThat(peer.frames(Attributes.class)).hasSize(1);

      cluster.primary().freeze(); // SIGSTOP: sockets stay open, nothing answers
      long t0 = System.nanoTime();
      TestPeer.Received down = peer.awaitAttributes(Duration.ofSeconds(10),
          a -> !a.reachable());
      System.out.printf("frozen instance reported unreachable after %d ms"
          + " (check_timeout 1000 ms)%n", (down.atNanos() - t0) / 1_000_000);

      cluster.primary().thaw();
      await().atMost(Duration.ofSeconds(15))
          .until(() -> peer.lastAttributes().orElseThrow().reachable());
      assertThat(peer.isOpen()).isTrue();
      // The warnings tell a timeout from a reset (PgJDBC's own message is the same for both) and
      // say how long the check ran: first on the open connection, then on a new one, which the
      // frozen server does not answer either.
      List<String> warnings = logged.list.stream()
          .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .filter(m -> m.startsWith("attribute check of")).toList();
      assertThat(warnings).hasSizeGreaterThanOrEqualTo(2);
      assertThat(warnings.get(0))
          .containsPattern("failed after 1[0-9]{3} ms on its open connection, checking again")
          .contains("(java.net.SocketTimeoutException: Read timed out)");
      assertThat(warnings.get(1)).containsPattern("failed after [0-9]+ ms \\(retrying every 200 ms\\)");
      assertThat(metric(w, "watchdog_attribute_check_retries_total")).isGreaterThanOrEqualTo(1.0);
    } finally {
      checkerLog.detachAppender(logged);
    }
  }

  @Test
  void aCheckerBackendTerminatedByAnAdministratorIsNotReportedAsADownInstance() throws Exception {
    try (PgCluster cluster = Pg.cluster(0);
         Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).checkAttrIntervalMs(100)
             .build());
         TestPeer peer = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 3000)) {
      PgInstance pg = cluster.primary();
      peer.awaitAttributes(Duration.ofSeconds(5), Attributes::reachable);
      // Between two checks the checker's backend is idle: ending it then fails the next check
      // on its open connection (ending it during a retry would rightly count as a failure).
      String idleChecker = "SELECT pid FROM pg_stat_activity WHERE state = 'idle'"
          + " AND application_name = '" + AttributeChecker.APPLICATION_NAME + "'";
      String ended = "0";
      for (int i = 1; i <= 5; i++) {
        String previous = ended; // an ended backend may still be listed for a moment
        String pid = await().atMost(Duration.ofSeconds(10))
            .until(() -> pg.queryScalar(idleChecker + " AND pid <> " + previous), p -> p != null);
        pg.execute("SELECT pg_terminate_backend(" + pid + ")");
        ended = pid;
        double retried = i;
        await().atMost(Duration.ofSeconds(10))
            .until(() -> metric(w, "watchdog_attribute_check_retries_total") >= retried);
        // the retry counts before it runs; the check's duration is recorded after it
        double checks = metric(w, "watchdog_attribute_check_seconds_count");
        await().atMost(Duration.ofSeconds(10))
            .until(() -> metric(w, "watchdog_attribute_check_seconds_count") > checks);
      }
      String last = ended;
      await().atMost(Duration.ofSeconds(10))
          .until(() -> pg.queryScalar(idleChecker + " AND pid <> " + last) != null);
      assertThat(peer.frames(Attributes.class)).hasSize(1).allMatch(Attributes::reachable);
      assertThat(metric(w, "watchdog_attribute_check_retries_total")).isEqualTo(5.0);
      assertThat(metric(w, "watchdog_attribute_changes_total")).isEqualTo(1.0);
      assertThat(metric(w, "watchdog_instance_reachable")).isEqualTo(1.0);
    }
  }

  @Test
  void aServerWideIdleSessionTimeoutDoesNotEndTheWatchdogsSessions() throws Exception {
    try (PgCluster cluster = Pg.cluster(0)) {
      PgInstance pg = cluster.primary();
      // In force before the watchdog connects: an idle backend applies a reload only at its next
      // command, and the terminator's sends none for seconds.
      pg.execute("ALTER SYSTEM SET idle_session_timeout = '500ms'");
      pg.execute("SELECT pg_reload_conf()");
      try (Watchdog w = Watchdog.start(Pg.settings(pg).checkAttrIntervalMs(1000).build())) {
        String sessions = "SELECT string_agg(application_name || ':' || pid, ','"
            + " ORDER BY application_name) FROM pg_stat_activity"
            + " WHERE application_name LIKE 'pgconmgr-watchdog-%'";
        String before = await().atMost(Duration.ofSeconds(10)).until(() -> pg.queryScalar(sessions),
            v -> v != null && v.contains("checker") && v.contains("terminator"));
        Thread.sleep(3000); // the checker idles 1 s between checks, the terminator all along
        assertThat(pg.queryScalar(sessions)).isEqualTo(before);
        assertThat(metric(w, "watchdog_attribute_check_retries_total")).isZero();
      } finally {
        pg.execute("ALTER SYSTEM RESET idle_session_timeout");
        pg.execute("SELECT pg_reload_conf()");
      }
    }
  }

  private static double metric(Watchdog w, String name) {
    return Scrape.value(w.scrapeMetrics(), name);
  }

  @Test
  void pgxStatWatchdogShowsEachInstancesOwnPeersWithSqlOnPrimaryAndStandby() throws Exception {
    try (PgCluster cluster = Pg.cluster(1)) {
      PgInstance primary = cluster.primary();
      PgInstance standby = cluster.standby(0);
      try (Watchdog onPrimary = Watchdog.start(Pg.settings(primary)
              .statFile(primary.dataDir().resolve(StatViewSql.DEFAULT_FILENAME)).build());
           Watchdog onStandby = Watchdog.start(Pg.settings(standby)
               .statFile(standby.dataDir().resolve(StatViewSql.DEFAULT_FILENAME)).build())) {
        // Setup once on the primary; it replicates.
        primary.execute(StatViewSql.setup(StatViewSql.DEFAULT_FILENAME));
        await().atMost(Duration.ofSeconds(10)).until(() -> "1".equals(standby.queryScalar(
            "SELECT count(*) FROM pg_foreign_table")));
        String rows = "SELECT conmgr_addr, conmgr_port, heartbeat_interval, heartbeat_timeout"
            + " FROM pgx_stat_watchdog ORDER BY conmgr_addr, conmgr_port";
        assertThat(primary.query(rows)).isEmpty();
        assertThat(standby.query(rows)).isEmpty();

        try (TestPeer a = TestPeer.session("127.0.0.2", onPrimary.heartbeatAddress(), 1000,
                 3000);
             TestPeer b = TestPeer.session("127.0.0.3", onPrimary.heartbeatAddress(), 2000,
                 10_000);
             TestPeer c = TestPeer.session("127.0.0.4", onStandby.heartbeatAddress(), 1500,
                 4500)) {
          await().atMost(Duration.ofSeconds(5)).until(() -> primary.query(rows).size() == 2
              && standby.query(rows).size() == 1);
          assertThat(primary.query(rows)).containsExactly(
              List.of("127.0.0.2", port(a), "1", "3"),
              List.of("127.0.0.3", port(b), "2", "10"));
          assertThat(standby.query(rows)).containsExactly(
              List.of("127.0.0.4", port(c), "2", "5"));
          assertThat(onPrimary.scrapeMetrics())
              .contains("watchdog_peer_sessions{conmgr_addr=\"127.0.0.2\"} 1.0")
              .contains("watchdog_peer_sessions{conmgr_addr=\"127.0.0.3\"} 1.0");
          assertThat(get(onStandby, "/sessions").body()).contains("\"conmgr_addr\":\"127.0.0.4\"")
              .contains("\"conmgr_port\":" + port(c)).contains("\"heartbeat_interval_ms\":1500");

          b.goodbye("bye");
          await().atMost(Duration.ofSeconds(5)).until(() -> primary.query(rows).size() == 1);
          assertThat(onPrimary.scrapeMetrics()).doesNotContain("conmgr_addr=\"127.0.0.3\"");
        }
        primary.execute(StatViewSql.removal());
        await().atMost(Duration.ofSeconds(10)).until(() -> "0".equals(standby.queryScalar(
            "SELECT count(*) FROM pg_foreign_table")));
      }
    }
  }

  private static String port(TestPeer p) {
    return String.valueOf(p.localAddress().getPort());
  }

  private static HttpResponse<String> get(Watchdog w, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + w.httpPort() + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
