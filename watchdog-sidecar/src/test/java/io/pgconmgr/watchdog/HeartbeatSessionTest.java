package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.protocol.heartbeat.Goodbye;
import io.pgconmgr.protocol.heartbeat.Heartbeat;
import io.pgconmgr.protocol.heartbeat.HeartbeatProtocol;
import io.pgconmgr.protocol.heartbeat.Hello;
import io.pgconmgr.testkit.PgCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Heartbeat sessions against a real watchdog on a real primary: timing, limits, bad input. */
class HeartbeatSessionTest {
  private static PgCluster cluster;

  @BeforeAll
  static void startPostgres() throws Exception {
    cluster = Pg.cluster(0);
  }

  @AfterAll
  static void stopPostgres() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void eachPeerGetsHeartbeatsAtItsOwnInterval() throws Exception {
    try (Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).build());
         TestPeer fast = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 2000);
         TestPeer slow = TestPeer.session("127.0.0.3", w.heartbeatAddress(), 700, 5000)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> slow.heartbeatTimes().size() >= 6);
      double fastGap = meanGapMs(fast.heartbeatTimes());
      double slowGap = meanGapMs(slow.heartbeatTimes());
      System.out.printf("mean heartbeat gap: fast peer %.0f ms (asked 200), slow peer %.0f ms"
          + " (asked 700)%n", fastGap, slowGap);
      assertThat(fastGap).isBetween(150.0, 350.0);
      assertThat(slowGap).isBetween(600.0, 950.0);
      assertThat(w.sessions()).extracting(PeerSession::heartbeatIntervalMs)
          .containsExactlyInAnyOrder(200, 700);
      // The counters follow what crossed the wire.
      int gotByPeers = fast.heartbeatTimes().size() + slow.heartbeatTimes().size();
      String metrics = w.scrapeMetrics(); // after counting: it can only have grown
      assertThat(Scrape.value(metrics, "watchdog_heartbeats_sent_total")).isGreaterThanOrEqualTo(
          gotByPeers);
      assertThat(Scrape.value(metrics, "watchdog_heartbeats_received_total")).isPositive();
      // One gap per heartbeat received; the largest is about the slow peer's 700 ms, far below its 5 s timeout.
      assertThat(Scrape.value(metrics, "watchdog_heartbeat_gap_seconds_count"))
          .isPositive().isCloseTo(Scrape.value(metrics, "watchdog_heartbeats_received_total"), within(2.0));
      assertThat(Scrape.value(metrics, "watchdog_heartbeat_gap_seconds_max")).isBetween(0.5, 2.5);
      assertThat(Scrape.value(metrics, "watchdog_attribute_check_seconds_count")).isPositive();
      assertThat(Scrape.value(metrics, "watchdog_sessions")).isEqualTo(2.0);
    }
  }

  private static double meanGapMs(List<Long> times) {
    return (times.get(times.size() - 1) - times.get(0)) / 1e6 / (times.size() - 1);
  }

  @Test
  void answersHelloWithTheAttributesOfThePrimary() throws Exception {
    try (Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).build());
         TestPeer peer = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 500, 5000)) {
      Attributes a = peer.awaitAttributes(Duration.ofSeconds(5), x -> true).frame() instanceof
          Attributes x ? x : null;
      String sysid = cluster.primary().queryScalar(
          "SELECT system_identifier FROM pg_control_system()");
      assertThat(a).isEqualTo(new Attributes(true, false, false, 1, Long.parseLong(sysid), -1,
          Integer.parseInt(cluster.primary().queryScalar("SHOW server_version_num"))));
      // The default session limit follows the instance's max_connections.
      assertThat(w.scrapeMetrics()).contains("watchdog_max_heartbeat_connections 100.0");
    }
  }

  @Test
  void refusesPeersBeyondMaxHeartbeatConnections() throws Exception {
    try (Watchdog w = Watchdog.start(Pg.settings(cluster.primary())
        .maxHeartbeatConnections(2).build());
         TestPeer one = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 5000);
         TestPeer two = TestPeer.session("127.0.0.3", w.heartbeatAddress(), 200, 5000)) {
      await().atMost(Duration.ofSeconds(5)).until(() -> w.sessions().size() == 2);

      TestPeer three = TestPeer.session("127.0.0.4", w.heartbeatAddress(), 200, 5000);
      three.awaitClosed(Duration.ofSeconds(5));
      assertThat(three.frames(Goodbye.class)).singleElement()
          .extracting(Goodbye::reason).asString().contains("max_heartbeat_connections is 2");
      assertThat(three.frames(Attributes.class)).isEmpty();
      assertThat(w.scrapeMetrics())
          .contains("watchdog_sessions_refused_total{reason=\"limit\"} 1.0");

      int before = one.heartbeatTimes().size();
      await().atMost(Duration.ofSeconds(5))
          .until(() -> one.heartbeatTimes().size() >= before + 3 && two.isOpen());

      // A freed slot is available again.
      one.goodbye("done");
      await().atMost(Duration.ofSeconds(5)).until(() -> w.sessions().size() == 1);
      try (TestPeer four = TestPeer.session("127.0.0.5", w.heartbeatAddress(), 200, 5000)) {
        four.awaitAttributes(Duration.ofSeconds(5), a -> a.reachable());
      }
    }
  }

  @Test
  void garbageTruncatedAndOversizeFramesCloseOnlyTheirConnection() throws Exception {
    try (Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).build());
         TestPeer good = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 5000)) {
      good.awaitAttributes(Duration.ofSeconds(5), a -> a.reachable());
      byte[][] bad = {
          "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(), // garbage: length 0x4745 is too big
          {0x00, 0x03, 0x03, 0x00, 0x00},                  // Heartbeat body cut short
          {0x04, 0x01, 0x01},                              // length 1025 > 1024
          {0x00, 0x02, 0x09, 0x00},                        // unknown frame type 9
      };
      for (byte[] bytes : bad) {
        TestPeer p = TestPeer.connect("127.0.0.3", w.heartbeatAddress());
        p.sendRaw(bytes);
        p.awaitClosed(Duration.ofSeconds(5));
      }
      // An established session sending garbage is closed too, and counts as a lost peer.
      TestPeer established = TestPeer.session("127.0.0.4", w.heartbeatAddress(), 200, 5000);
      established.awaitAttributes(Duration.ofSeconds(5), a -> a.reachable());
      established.sendRaw(new byte[] {0x00, 0x01, 0x07});
      established.awaitClosed(Duration.ofSeconds(5));
      // A client that speaks before its Hello is closed.
      TestPeer rude = TestPeer.connect("127.0.0.5", w.heartbeatAddress());
      rude.send(new Heartbeat(1, 1));
      rude.awaitClosed(Duration.ofSeconds(5));

      int before = good.heartbeatTimes().size();
      await().atMost(Duration.ofSeconds(5)).until(() -> good.heartbeatTimes().size() >= before + 3);
      assertThat(good.isOpen()).isTrue();
      assertThat(w.sessions()).extracting(s -> s.address().getHostAddress())
          .containsExactly("127.0.0.2");
      // Six connections closed for their input: four raw ones, the established one, the rude one.
      assertThat(w.scrapeMetrics()).contains("watchdog_peers_lost_total{reason=\"closed\"} 1.0")
          .contains("watchdog_frames_rejected_total 6.0");
    }
  }

  @Test
  void aPeerWhoseTimeoutIsNotAboveItsIntervalIsAlwaysLost() throws Exception {
    // Accepted as in the seed, but its heartbeats cannot arrive often enough to keep it alive.
    try (Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).build());
         TestPeer healthy = TestPeer.session("127.0.0.2", w.heartbeatAddress(), 200, 2000);
         TestPeer equal = TestPeer.session("127.0.0.6", w.heartbeatAddress(), 400, 400);
         TestPeer below = TestPeer.session("127.0.0.7", w.heartbeatAddress(), 400, 250)) {
      for (TestPeer p : List.of(healthy, equal, below)) {
        p.awaitAttributes(Duration.ofSeconds(5), a -> a.reachable()); // each session came up
      }

      below.awaitClosed(Duration.ofSeconds(10));
      equal.awaitClosed(Duration.ofSeconds(30));

      for (TestPeer p : List.of(equal, below)) {
        assertThat(p.frames(Goodbye.class)).singleElement().extracting(Goodbye::reason)
            .isEqualTo("heartbeat timeout");
      }
      assertThat(healthy.isOpen()).isTrue();
      assertThat(w.sessions()).extracting(s -> s.address().getHostAddress())
          .containsExactly("127.0.0.2");
      assertThat(w.scrapeMetrics()).contains("watchdog_peers_lost_total{reason=\"timeout\"} 2.0");
    }
  }

  @Test
  void refusesAnotherProtocolVersionWithAGoodbyeNamingBoth() throws Exception {
    try (Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).build());
         TestPeer p = TestPeer.connect("127.0.0.2", w.heartbeatAddress())) {
      p.send(new Hello(HeartbeatProtocol.VERSION + 1, 1000, 3000, "future"));
      p.awaitClosed(Duration.ofSeconds(5));
      assertThat(p.frames(Goodbye.class)).singleElement().extracting(Goodbye::reason).asString()
          .contains("version " + (HeartbeatProtocol.VERSION + 1))
          .contains("speaks " + HeartbeatProtocol.VERSION);
    }
  }
}
