package io.pgconmgr.conmgr.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.pgconmgr.conmgr.Psql;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.testkit.Cmd;
import io.pgconmgr.testkit.PgCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** No primary: a read-write client waits route_wait_timeout for one, then gets an error that says why. */
class NoPrimaryTest {

  static Stack stack;

  @BeforeAll
  static void start() throws Exception {
    WatchdogProcess.assumeAvailable();
    assumeThat(Psql.available()).as("needs psql (Debian postgresql-client)").isTrue();
    stack = Stack.start(PgCluster.builder().standbys(1).namePrefix("noprimary").start(),
        List.of(TargetSessionAttrs.READ_ONLY), 3000, 0).awaitHealthy(Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void readWriteWaitsThenFailsNamingTheTargetWhileReadOnlyStillWorks() throws Exception {
    assertThat(Psql.query(Psql.conmgr(stack.listener(0), ""), "select 1")).as("healthy").isEqualTo("1");
    stack.cluster.primary().stop();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> !stack.conmgr.table().get(0).usable());

    long t0 = System.nanoTime();
    Cmd.Result r = Psql.run(Psql.conmgr(stack.listener(0), ""), "select 1");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("no primary: psql failed after %d ms (route_wait_timeout 3000 ms): %s%n", ms, r.output().trim());
    assertThat(r.ok()).isFalse();
    assertThat(r.output()).contains("no instance matches target_session_attrs=read-write")
        .contains("PostgreSQL not answering");
    assertThat(ms).isGreaterThanOrEqualTo(2900);
    assertThat(stack.conmgr.metrics().scrape())
        .contains("conmgr_routing_errors_total{reason=\"no_instance\",target=\"read-write\"} 1.0");
    assertThat(Psql.query(Psql.conmgr(stack.listener(1), ""), "select pg_is_in_recovery()")).isEqualTo("t");

    // A client that arrives during the "failover" waits and is routed when the standby is promoted.
    CompletableFuture<Cmd.Result> waiting = CompletableFuture.supplyAsync(() ->
        Psql.run(Psql.conmgr(stack.listener(0), ""), "select pg_is_in_recovery()"));
    Thread.sleep(500);
    stack.cluster.standby(0).promote();
    Cmd.Result routed = waiting.get(30, TimeUnit.SECONDS);
    assertThat(routed.ok()).as(routed.output()).isTrue();
    assertThat(routed.output().trim()).isEqualTo("f");
  }
}
