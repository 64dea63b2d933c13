package io.pgconmgr.conmgr.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Promotion followed by conmgr: new read-write connections reach the promoted standby within
 * check_attr_interval plus a margin, and never the old primary once it is on an older timeline,
 * even while it still runs (split brain).
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

  @Test
  void readWriteFollowsThePromotionAndNeverReturnsToTheOldPrimary() throws Exception {
    WatchdogProcess.assumeAvailable();
    stack = Stack.start(PgCluster.builder().standbys(1).namePrefix("failover").start(), List.of(), 10_000, 0)
        .awaitHealthy(Duration.ofSeconds(60));
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
}
