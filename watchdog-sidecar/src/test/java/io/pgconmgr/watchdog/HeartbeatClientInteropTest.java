package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.pgconmgr.protocol.heartbeat.HeartbeatClient;
import io.pgconmgr.protocol.heartbeat.HeartbeatTiming;
import io.pgconmgr.protocol.netty.NettyTransport;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real conmgr-side client of protocol/ against a real watchdog: plain TCP, mutual TLS, and
 * clients the TLS watchdog must refuse. Certificates made by openssl.
 */
class HeartbeatClientInteropTest {
  private static final HeartbeatTiming FAST = new HeartbeatTiming(200, 1_000, 200, 2_000);
  @TempDir
  static Path pki;
  private static PgCluster cluster;
  private static EventLoopGroup group;

  @BeforeAll
  static void start() throws Exception {
    cluster = Pg.cluster(0);
    group = NettyTransport.newEventLoopGroup(1, "interop-test");
    TestPki.create(pki).issue("watchdog", "subjectAltName=DNS:localhost,IP:127.0.0.1")
        .issue("conmgr", "extendedKeyUsage=clientAuth");
  }

  @AfterAll
  static void stop() {
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void conmgrClientGetsTheLinkUpWithTheInstancesAttributes() throws Exception {
    try (Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).build());
         HeartbeatClient c = HeartbeatClient.builder(group, "127.0.0.1", w.port()).timing(FAST)
             .peerName("interop").build().start()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> c.status().linkUp());
      assertThat(c.status().attributes()).isEqualTo(w.attributes());
      await().atMost(Duration.ofSeconds(5)).until(() -> w.sessions().size() == 1);
      assertThat(w.sessions().get(0).peerName()).isEqualTo("interop");
    }
  }

  @Test
  void conmgrClientOverTheLimitLearnsWhyAndGetsInWhenASlotFrees() throws Exception {
    try (Watchdog w = Watchdog.start(Pg.settings(cluster.primary()).maxHeartbeatConnections(1)
             .build());
         HeartbeatClient first = HeartbeatClient.builder(group, "127.0.0.1", w.port())
             .timing(FAST).build().start()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> first.status().linkUp());
      try (HeartbeatClient second = HeartbeatClient.builder(group, "127.0.0.1", w.port())
          .timing(FAST).build().start()) {
        await().atMost(Duration.ofSeconds(10)).until(() -> second.status().lastError() != null
            && second.status().lastError().contains("max_heartbeat_connections is 1"));
        System.out.println("client over the limit: " + second.status().lastError());
        assertThat(second.status().linkUp()).isFalse();
        first.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> second.status().linkUp());
      }
    }
  }

  @Test
  void mutualTlsAdmitsCertifiedClientsOnly() throws Exception {
    WatchdogSettings s = Pg.settings(cluster.primary())
        .tls(pki.resolve("watchdog.crt"), pki.resolve("watchdog.key"), pki.resolve("ca.crt"))
        .build();
    List<AutoCloseable> clients = new ArrayList<>();
    try (Watchdog w = Watchdog.start(s)) {
      HeartbeatClient good = HeartbeatClient.builder(group, "localhost", w.port()).timing(FAST)
          .sslContext(client(true)).build().start();
      clients.add(good);
      await().atMost(Duration.ofSeconds(10)).until(() -> good.status().linkUp());
      assertThat(good.status().attributes().reachable()).isTrue();

      HeartbeatClient anonymous = HeartbeatClient.builder(group, "localhost", w.port())
          .timing(FAST).sslContext(client(false)).build().start();
      clients.add(anonymous);
      HeartbeatClient plain = HeartbeatClient.builder(group, "localhost", w.port())
          .timing(FAST).build().start();
      clients.add(plain);
      await().atMost(Duration.ofSeconds(10)).until(() -> anonymous.status().connectAttempts() >= 2
          && plain.status().connectAttempts() >= 2);
      assertThat(anonymous.status().linkUp()).isFalse();
      assertThat(plain.status().linkUp()).isFalse();
      assertThat(good.status().linkUp()).isTrue();
      assertThat(w.sessions()).hasSize(1);
      assertThat(w.scrapeMetrics()).containsPattern(
          "watchdog_sessions_refused_total\\{reason=\"tls\"} [1-9]");
    } finally {
      for (AutoCloseable c : clients) {
        c.close();
      }
    }
  }

  @Test
  void tlsSettingsComeInThreesAndBadFilesFailTheStart() throws Exception {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Pg.settings(cluster.primary())
            .tls(pki.resolve("watchdog.crt"), null, null).build())
        .hasMessageContaining("TLS needs all of");
    WatchdogSettings swapped = Pg.settings(cluster.primary())
        .tls(pki.resolve("watchdog.key"), pki.resolve("watchdog.crt"), pki.resolve("ca.crt"))
        .build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Watchdog.start(swapped))
        .isInstanceOf(java.io.IOException.class).hasMessageContaining("cannot set up TLS");
  }

  private static SslContext client(boolean withCertificate) throws Exception {
    SslContextBuilder b = SslContextBuilder.forClient().trustManager(pki.resolve("ca.crt")
        .toFile());
    if (withCertificate) {
      b.keyManager(pki.resolve("conmgr.crt").toFile(), pki.resolve("conmgr.key").toFile());
    }
    return b.build();
  }
}
