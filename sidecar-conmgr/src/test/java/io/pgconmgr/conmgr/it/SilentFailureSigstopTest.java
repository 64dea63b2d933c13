package io.pgconmgr.conmgr.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.conmgr.AwareClient;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A hung host without root: SIGSTOP of an instance and its watchdog. Sockets stay open and nothing
 * answers, which TCP alone notices only after minutes; conmgr fails the clients within the
 * heartbeat timeout (3 s here).
 */
class SilentFailureSigstopTest {

  static final String SLEEP = "select pg_sleep(60)";
  static Stack stack;

  @BeforeAll
  static void start() throws Exception {
    WatchdogProcess.assumeAvailable();
    stack = Stack.start(PgCluster.builder().standbys(1).namePrefix("sigstop").start(),
        List.of(TargetSessionAttrs.STANDBY), 5000, 0);
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @BeforeEach
  void healthy() throws Exception {
    stack.awaitHealthy(Duration.ofSeconds(60));
  }

  private void freeze(int i) {
    PgInstance pg = stack.cluster.instances().get(i);
    pg.freeze();
    stack.watchdogs.get(i).freeze();
  }

  private void thaw(int i) {
    stack.cluster.instances().get(i).thaw();
    stack.watchdogs.get(i).thaw();
  }

  @Test
  void inFlightQueryThroughTheProxyFailsWithinTheHeartbeatTimeoutWhenThePrimaryHangs() throws Exception {
    PgInstance primary = stack.cluster.primary();
    InFlight q = InFlight.start(stack.jdbcUrl(0, ""), SLEEP);
    InFlight.awaitRunning(primary.jdbcUrl(), SLEEP);
    assertThat(q.failure).as("healthy: the query is running").isNotDone();

    long frozenAt = System.nanoTime();
    freeze(0);
    try {
      SQLException e = q.failure.get(30, TimeUnit.SECONDS);
      long ms = (q.endedNanos - frozenAt) / 1_000_000;
      System.out.printf("SIGSTOP: in-flight query failed %d ms after the freeze (heartbeat_timeout 3000 ms): %s%n",
          ms, e == null ? "no error" : e.getSQLState() + " " + e.getMessage());
      assertThat((Object) e).as("the query must fail, not complete").isNotNull();
      assertThat(e.getSQLState()).startsWith("08");
      assertThat(ms).as("within heartbeat_timeout + 1 s (plus slack for a busy machine)").isLessThan(3000 + 1000 + 3000);
    } finally {
      thaw(0);
    }
  }

  @Test
  void awareClientGetsTheAddressConnectsDirectlyAndReceivesTheNoticeWhenItsStandbyHangs() throws Exception {
    PgInstance standby = stack.cluster.standby(0);
    AwareClient.Address[] address = new AwareClient.Address[1];
    try (AwareClient channel = AwareClient.ask(stack.listener(1), "", Map.of("user", "postgres"), address)) {
      assertThat(address[0].port()).isEqualTo(standby.port());
      assertThat(address[0].role()).isEqualTo("standby");
      try (Connection direct = DriverManager.getConnection(
          "jdbc:postgresql://" + address[0].host() + ":" + address[0].port() + "/postgres?user=postgres");
           ResultSet r = direct.createStatement().executeQuery("select pg_is_in_recovery()")) {
        r.next();
        assertThat(r.getBoolean(1)).as("healthy: direct connection to the standby").isTrue();
        assertThat(channel.awaitNotice(Duration.ofMillis(500))).as("healthy: no notice").isNull();

        long frozenAt = System.nanoTime();
        freeze(1);
        try {
          AwareClient.Notice notice = channel.awaitNotice(Duration.ofSeconds(30));
          long ms = (System.nanoTime() - frozenAt) / 1_000_000;
          System.out.printf("SIGSTOP: aware client notified %d ms after the freeze: %s%n", ms, notice);
          assertThat(notice).isNotNull();
          assertThat(notice.instance()).isEqualTo(1);
          assertThat(notice.reason()).isNotBlank();
          assertThat(ms).isLessThan(3000 + 1000 + 3000);
        } finally {
          thaw(1);
        }
      }
    }
  }
}
