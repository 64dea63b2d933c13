package io.pgconmgr.conmgr.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.conmgr.AwareClient;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Promotion followed by conmgr: new read-write connections reach the promoted standby within
 * check_attr_interval plus a margin, and never the old primary once it is on an older timeline,
 * even while it still runs (split brain); an aware client given the old primary gets the failure
 * notice at that moment.
 */
class FailoverTest {

  Stack stack;

  @AfterEach
  void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  static int port(String url) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
         ResultSet r = c.createStatement().executeQuery("select current_setting('port')::int")) {
      r.next();
      return r.getInt(1);
    }
  }

  /** Instance 0 the primary, 1 its standby; read-write listener first. */
  private void startPrimaryAndStandby(String namePrefix) throws Exception {
    WatchdogProcess.assumeAvailable();
    stack = Stack.start(PgCluster.builder().standbys(1).namePrefix(namePrefix).start(), List.of(), 10_000, 0)
        .awaitHealthy(Duration.ofSeconds(60));
  }

  @Test
  void readWriteFollowsThePromotionAndNeverReturnsToTheOldPrimary() throws Exception {
    startPrimaryAndStandby("failover");
    PgInstance oldPrimary = stack.cluster.primary();
    PgInstance standby = stack.cluster.standby(0);
    String rw = stack.jdbcUrl(0, "connectTimeout=20");
    assertThat(port(rw)).as("healthy: read-write goes to the primary").isEqualTo(oldPrimary.port());
    Connection onOldPrimary = DriverManager.getConnection(rw);

    long t0 = System.nanoTime();
    standby.promote();
    long promotedMs = (System.nanoTime() - t0) / 1_000_000;
    int reached = 0;
    long firstNewMs;
    int fenced = 0;
    do {
      try {
        reached = port(rw);
      } catch (SQLException e) {
        // Routed to the old primary just before the new timeline was seen, then cut off by conmgr: expected.
        fenced++;
      }
      firstNewMs = (System.nanoTime() - t0) / 1_000_000;
    } while (reached != standby.port() && firstNewMs < 30_000);
    System.out.println("connections cut off on the old primary during the switch: " + fenced);
    System.out.printf("failover: pg_ctl promote returned after %d ms; first read-write connection through conmgr on "
        + "the new primary %d ms after promote started (check_attr_interval %d ms)%n", promotedMs, firstNewMs,
        Stack.CHECK_ATTR_INTERVAL_MS);
    assertThat(reached).isEqualTo(standby.port());
    assertThat(firstNewMs - promotedMs).as("within check_attr_interval + margin").isLessThan(5_000);

    // The old primary still runs and accepts writes: split brain. conmgr must not route there.
    assertThat(oldPrimary.isInRecovery()).isFalse();
    for (int i = 0; i < 10; i++) {
      assertThat(port(rw)).isEqualTo(standby.port());
    }
    assertThat(stack.status()).contains("STALE PRIMARY").contains("split brain");
    assertThat(stack.conmgr.metrics().scrape()).contains("conmgr_split_brain 1.0");
    // ... and a client still connected to the old primary through conmgr was cut off.
    try (onOldPrimary) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> onOldPrimary.createStatement().execute("select 1"))
          .isInstanceOf(SQLException.class);
    }

    oldPrimary.stop();
    for (int i = 0; i < 5; i++) {
      assertThat(port(rw)).isEqualTo(standby.port());
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(stack.conmgr.metrics().scrape()).contains("conmgr_split_brain 0.0"));
  }

  @Test
  void awareClientGivenTheOldPrimaryGetsAFailureNoticeWhenTheStandbyIsPromoted() throws Exception {
    startPrimaryAndStandby("failover-aware");
    PgInstance oldPrimary = stack.cluster.primary();
    PgInstance standby = stack.cluster.standby(0);
    AwareClient.Address[] address = new AwareClient.Address[1];
    try (AwareClient channel = AwareClient.ask(stack.listener(0), "read-write", Map.of("user", "postgres"), address)) {
      assertThat(address[0].port()).as("healthy: read-write names the primary").isEqualTo(oldPrimary.port());
      assertThat(address[0].role()).isEqualTo("primary");
      assertThat(channel.awaitNotice(Duration.ofMillis(500))).as("healthy: no notice").isNull();

      long t0 = System.nanoTime();
      standby.promote();
      AwareClient.Notice notice = channel.awaitNotice(Duration.ofSeconds(30));
      long noticeMs = (System.nanoTime() - t0) / 1_000_000;
      System.out.printf("aware client: failure notice %d ms after promote started (check_attr_interval %d ms): %s%n",
          noticeMs, Stack.CHECK_ATTR_INTERVAL_MS, notice);
      // The old primary's link is still up and it still accepts writes: only the newer timeline withdraws it.
      assertThat(notice).isNotNull();
      assertThat(notice.instance()).isEqualTo(0);
      assertThat(notice.reason()).contains("older timeline");
      assertThat(oldPrimary.isInRecovery()).isFalse();
    }
    try (AwareClient again = AwareClient.ask(stack.listener(0), "read-write", Map.of("user", "postgres"), address)) {
      assertThat(address[0].port()).as("asking again names the new primary").isEqualTo(standby.port());
    }
  }
}
