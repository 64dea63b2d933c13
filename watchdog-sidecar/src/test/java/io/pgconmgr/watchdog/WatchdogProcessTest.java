package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.protocol.heartbeat.Goodbye;
import io.pgconmgr.testkit.PgCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The watchdog as a separate process started from a settings file, as bin/watchdog runs it. */
class WatchdogProcessTest {

  @Test
  void runsFromASettingsFileServesPeersAndSaysGoodbyeOnSigterm(@TempDir Path dir)
      throws Exception {
    try (PgCluster cluster = Pg.cluster(0);
         WatchdogProcess w = WatchdogProcess.start(dir, cluster.primary().conninfo("postgres"),
             List.of(), "watchdog.check_attr_interval = 500ms",
             "watchdog.state_file = 'watchdog.peers'",
             "watchdog.stat_file = 'pgx_stat_watchdog.csv'");
         TestPeer peer = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 300, 3000)) {
      Attributes a = (Attributes) peer.awaitAttributes(Duration.ofSeconds(10),
          Attributes::reachable).frame();
      assertThat(a.inRecovery()).isFalse();
      assertThat(w.http("/ready").statusCode()).isEqualTo(200);
      assertThat(w.http("/sessions").body()).contains("\"conmgr_addr\":\"127.0.0.2\"");
      assertThat(w.http("/metrics").body()).contains("watchdog_sessions 1.0")
          .contains("jvm_memory_used_bytes");
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
          .until(() -> Files.exists(dir.resolve("watchdog.peers"))
              && Files.readString(dir.resolve("watchdog.peers")).contains("127.0.0.2,")
              && Files.readString(dir.resolve("pgx_stat_watchdog.csv")).contains("127.0.0.2,"));

      int code = w.stop();
      peer.awaitClosed(Duration.ofSeconds(10));
      assertThat(peer.frames(Goodbye.class)).extracting(Goodbye::reason)
          .containsExactly("watchdog shutting down");
      assertThat(code).isIn(0, 143);
      // The state file keeps the peer for the next run; pgx_stat_watchdog shows nobody.
      assertThat(Files.readString(dir.resolve("watchdog.peers"))).contains("127.0.0.2,");
      assertThat(Files.readString(dir.resolve("pgx_stat_watchdog.csv")))
          .isEqualTo(SessionFiles.STAT_HEADER + "\n");
      // The program logs with its own format (watchdog-logback.xml), to stderr.
      assertThat(Files.readString(w.log)).containsPattern(
          "\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z INFO  \\[[^]]+\\] Watchdog: watchdog stopped");
    }
  }
}
