package io.pgconmgr.conmgr.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.testkit.NetNamespace;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The case TCP keepalive handles badly: the link to a database host is cut silently (iptables
 * DROP, no RST). PostgreSQL and its watchdog run on a test host in a network namespace; conmgr and
 * the client in the root namespace. Heartbeat interval 1 s, timeout 3 s.
 */
class SilentPartitionNetnsTest {

  static final String SLEEP = "select pg_sleep(60)";
  NetNamespace ns;
  Stack stack;

  @AfterEach
  void cleanUp() {
    if (stack != null) {
      stack.close();
    }
    if (ns != null) {
      ns.close();
    }
  }

  @Test
  void inFlightQueryFailsWithinTheHeartbeatTimeoutAndTheWatchdogTerminatesItsBackend() throws Exception {
    NetNamespace.assumeAvailable();
    WatchdogProcess.assumeAvailable();
    ns = NetNamespace.create();
    stack = Stack.start(PgCluster.builder().standbys(0).primaryIn(ns).namePrefix("netns").start(), List.of(), 5000, 0)
        .awaitHealthy(Duration.ofSeconds(60));
    PgInstance primary = stack.cluster.primary();
    assertThat(primary.host()).isEqualTo(ns.hostAddress());

    InFlight q = InFlight.start(stack.jdbcUrl(0, ""), SLEEP);
    InFlight.awaitRunning(primary.jdbcUrl(), SLEEP);
    assertThat(q.failure).as("healthy: the query runs on the test host").isNotDone();

    long cutAt = System.nanoTime();
    ns.cut();
    SQLException e;
    long ms;
    try {
      e = q.failure.get(30, TimeUnit.SECONDS);
      ms = (q.endedNanos - cutAt) / 1_000_000;
      System.out.printf("netns cut: in-flight query failed %d ms after the cut (heartbeat_timeout 3000 ms): %s%n",
          ms, e == null ? "no error" : e.getSQLState() + " " + e.getMessage());
    } finally {
      ns.restore();
    }
    assertThat((Object) e).as("the query must fail, not complete").isNotNull();
    assertThat(ms).as("within heartbeat_timeout + 1 s (plus slack for a busy machine)").isLessThan(3000 + 1000 + 3000);

    // Server side: the watchdog lost conmgr's heartbeat too and terminated the orphaned backend.
    long restoredAt = System.nanoTime();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .ignoreExceptions().until(() -> InFlight.count(primary.jdbcUrl(), SLEEP) == 0);
    System.out.printf("netns cut: the orphaned pg_sleep backend is gone %d ms after the link returned%n",
        (System.nanoTime() - restoredAt) / 1_000_000);
    assertThat(stack.watchdogs.get(0).log()).containsIgnoringCase("terminat");
    stack.awaitHealthy(Duration.ofSeconds(30));
  }
}
