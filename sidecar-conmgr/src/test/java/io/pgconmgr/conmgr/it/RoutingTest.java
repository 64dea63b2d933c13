package io.pgconmgr.conmgr.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.pgconmgr.conmgr.Psql;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.testkit.PgCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Routing by role with real watchdogs, psql and PgJDBC: one primary, two standbys. */
class RoutingTest {

  static Stack stack;

  @BeforeAll
  static void start() throws Exception {
    WatchdogProcess.assumeAvailable();
    stack = Stack.start(PgCluster.builder().standbys(2).namePrefix("routing").start(),
        List.of(TargetSessionAttrs.READ_ONLY, TargetSessionAttrs.PREFER_STANDBY, TargetSessionAttrs.ANY), 3000, 0)
        .awaitHealthy(Duration.ofSeconds(60));
    System.out.println(stack.status());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  static String port(Connection c) throws Exception {
    try (ResultSet r = c.createStatement().executeQuery("select current_setting('port')")) {
      r.next();
      return r.getString(1);
    }
  }

  @Test
  void psqlReachesThePrimaryForReadWriteAndAStandbyForReadOnlyAndPreferStandby() {
    assumeThat(Psql.available()).as("needs psql (Debian postgresql-client)").isTrue();
    String q = "select pg_is_in_recovery()";
    assertThat(Psql.query(Psql.conmgr(stack.listener(0), ""), q)).isEqualTo("f");
    assertThat(Psql.query(Psql.conmgr(stack.listener(1), ""), q)).isEqualTo("t");
    assertThat(Psql.query(Psql.conmgr(stack.listener(2), ""), q)).isEqualTo("t");
    Psql.query(Psql.conmgr(stack.listener(0), ""), "create table if not exists routed(i int); insert into routed values (1)");
  }

  @Test
  void pgjdbcReachesThePrimaryForReadWriteAndStandbysShareReadOnlyLoad() throws Exception {
    try (Connection c = DriverManager.getConnection(stack.jdbcUrl(0, ""))) {
      assertThat(port(c)).isEqualTo(Integer.toString(stack.cluster.primary().port()));
    }
    List<Connection> open = new ArrayList<>();
    Map<String, Integer> perPort = new HashMap<>();
    try {
      for (int i = 0; i < 6; i++) {
        Connection c = DriverManager.getConnection(stack.jdbcUrl(1, ""));
        open.add(c);
        perPort.merge(port(c), 1, Integer::sum);
      }
    } finally {
      for (Connection c : open) {
        c.close();
      }
    }
    System.out.println("read-only connections per standby port: " + perPort);
    assertThat(perPort).containsOnlyKeys(Integer.toString(stack.cluster.standby(0).port()),
        Integer.toString(stack.cluster.standby(1).port()));
    assertThat(perPort.values()).containsExactly(3, 3);
  }

  /** The value of one Prometheus sample, or NaN when absent. */
  static double sample(String scrape, String name) {
    return scrape.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.substring(
        name.length() + 1).trim())).findFirst().orElse(Double.NaN);
  }

  @Test
  void metricsShowHeartbeatsRoundTripsClientsPerTargetAndDecisions() throws Exception {
    try (Connection c = DriverManager.getConnection(stack.jdbcUrl(1, ""))) {
      String port = port(c);
      System.gc(); // Micrometer holds a gauge's object weakly: the figures must survive a GC
      String m = stack.conmgr.metrics().scrape();
      int standby = Integer.toString(stack.cluster.standby(0).port()).equals(port) ? 1 : 2;
      System.out.println("heartbeat round trips (s): "
          + m.lines().filter(l -> l.startsWith("conmgr_heartbeat_round_trip_seconds{")).toList());
      assertThat(sample(m, "conmgr_links_up")).isEqualTo(3.0);
      assertThat(sample(m, "conmgr_link_losses_total{instance=\"0\"}")).as("present before any loss").isEqualTo(0.0);
      assertThat(sample(m, "conmgr_clients_refused_total{reason=\"open_files\"}")).as("present before any refusal")
          .isEqualTo(0.0);
      for (int i = 0; i < 3; i++) {
        assertThat(sample(m, "conmgr_heartbeat_round_trip_seconds{instance=\"" + i + "\"}")).as("round trip " + i)
            .isGreaterThan(0.0).isLessThan(30.0);
        assertThat(sample(m, "conmgr_heartbeat_age_seconds{instance=\"" + i + "\"}")).as("age " + i)
            .isGreaterThanOrEqualTo(0.0).isLessThan(3.0);
      }
      // Heartbeats every 1 s, timeout 3 s: every gap between two frames stays well below the timeout.
      await().atMost(Duration.ofSeconds(15)).until(() -> {
        String now = stack.conmgr.metrics().scrape();
        return java.util.stream.IntStream.range(0, 3)
            .allMatch(i -> sample(now, "conmgr_heartbeat_gap_seconds_count{instance=\"" + i + "\"}") >= 2);
      });
      String later = stack.conmgr.metrics().scrape();
      for (int i = 0; i < 3; i++) {
        assertThat(sample(later, "conmgr_heartbeat_gap_seconds_max{instance=\"" + i + "\"}")).as("largest gap " + i)
            .isGreaterThan(0.0).isLessThan(3.0);
      }
      assertThat(sample(m, "conmgr_client_connections{target=\"read-only\"}")).isGreaterThanOrEqualTo(1.0);
      assertThat(sample(m, "conmgr_instance_clients{instance=\"" + standby + "\"}")).isGreaterThanOrEqualTo(1.0);
      assertThat(sample(m, "conmgr_routing_decisions_total{instance=\"" + standby
          + "\",mode=\"proxy\",target=\"read-only\"}")).isGreaterThanOrEqualTo(1.0);
    }
  }

  @Test
  void statusShowsEveryInstanceWithRoleAndLink() {
    String status = stack.status();
    assertThat(status.lines().filter(l -> l.contains(" primary ")).count()).isEqualTo(1);
    assertThat(status.lines().filter(l -> l.contains(" standby ")).count()).isEqualTo(2);
    assertThat(status).doesNotContain("down");
  }
}
