package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.protocol.heartbeat.Attributes;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starting without PostgreSQL, and failing to start when a port is taken. */
class WatchdogStartTest {
  /** A loopback port nothing listens on: PostgreSQL "down". */
  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void startsWhilePostgresIsDownAndServesUnreachable() throws Exception {
    WatchdogSettings s = WatchdogSettings.builder("host=127.0.0.1 port=" + closedPort()
        + " user=postgres").port(0).httpPort(0).listenAddress("127.0.0.1")
        .checkAttrIntervalMs(200).build();
    try (Watchdog w = Watchdog.start(s);
         TestPeer peer = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 2000)) {
      assertThat(peer.awaitAttributes(Duration.ofSeconds(5), a -> true).frame())
          .isEqualTo(Attributes.UNREACHABLE);
      // max_connections is unknown yet: nothing is refused meanwhile.
      assertThat(w.scrapeMetrics()).contains("watchdog_max_heartbeat_connections -1.0")
          .contains("watchdog_instance_reachable 0.0");
      Thread.sleep(1000);
      assertThat(peer.isOpen()).isTrue();
    }
  }

  @Test
  void stopEmptiesPgxStatWatchdogAndTheStateFileKeepsThePeers(@TempDir Path dir)
      throws Exception {
    Path stat = dir.resolve("pgx_stat_watchdog.csv");
    Path state = dir.resolve("watchdog.peers");
    WatchdogSettings s = WatchdogSettings.builder("host=127.0.0.1 port=" + closedPort()
        + " user=postgres").port(0).httpPort(0).listenAddress("127.0.0.1")
        .statFile(stat).stateFile(state).build();
    Watchdog w = Watchdog.start(s);
    try (TestPeer first = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 2000)) {
      Awaitility.await().atMost(Duration.ofSeconds(5))
          .until(() -> Files.readAllLines(stat).size() == 2);
      // A second peer arrives and the watchdog stops while its file write may be under way.
      try (TestPeer second = TestPeer.session("127.0.0.3", w.heartbeatAddress(), 200, 2000)) {
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> w.sessions().size() == 2);
        w.close();
        Thread.sleep(200); // a write that was still pending would land by now
        assertThat(Files.readString(stat)).isEqualTo(SessionFiles.STAT_HEADER + "\n");
        assertThat(SessionFiles.readState(state)).extracting(p -> p.address().getHostAddress())
            .contains("127.0.0.2");
      }
    } finally {
      w.close();
    }
  }

  @Test
  void portInUseFailsTheStartWithItsOwnExitCode(@TempDir Path dir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      Path conf = dir.resolve("watchdog.conf");
      Files.writeString(conf, """
          watchdog.conninfo = 'host=127.0.0.1 port=%d user=postgres'
          watchdog.listen_address = '127.0.0.1'
          watchdog.port = %d
          """.formatted(closedPort(), taken.getLocalPort()));
      var err = new ByteArrayOutputStream();
      int code = WatchdogMain.run(new String[] {"-c", conf.toString()},
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8));
      assertThat(code).isEqualTo(WatchdogMain.EXIT_START_FAILED);
      assertThat(err.toString(StandardCharsets.UTF_8))
          .contains("watchdog: cannot start: cannot listen for heartbeats on 127.0.0.1:"
              + taken.getLocalPort());
    }
  }
}
