package io.pgconmgr.protocol.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.ResolvedAddressTypes;
import io.pgconmgr.protocol.netty.NettyTransport;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import io.pgconmgr.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The heartbeat link over TLS with mutual authentication, certificates made by openssl. */
class HeartbeatClientTlsTest {
  private static final HeartbeatTiming FAST = new HeartbeatTiming(200, 1_000, 200, 1_000);
  private static final Duration PATIENCE = Duration.ofSeconds(10);
  private static final Attributes PRIMARY = new Attributes(true, false, false, 1, 42, -1, 170006);

  @TempDir
  static Path pki;
  private static EventLoopGroup group;

  private final List<AutoCloseable> cleanup = new ArrayList<>();

  @BeforeAll
  static void makeCertificates() throws Exception {
    group = NettyTransport.newEventLoopGroup(1, "heartbeat-tls-test");
    TestPki.create(pki).issue("watchdog", "subjectAltName=DNS:localhost,IP:127.0.0.1")
        .issue("conmgr", "extendedKeyUsage=clientAuth");
  }

  @AfterAll
  static void stopGroup() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @AfterEach
  void closeEverything() throws Exception {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
  }

  @Test
  void linkComesUpOverMutualTls() throws Exception {
    TestWatchdog watchdog = tlsWatchdog();

    HeartbeatClient client = client("localhost", watchdog.port(), clientContext(true), null);

    await().atMost(PATIENCE).until(() -> client.status().linkUp());
    assertThat(client.status().attributes()).isEqualTo(PRIMARY);
    await().atMost(PATIENCE).until(() -> !watchdog.framesOf(Heartbeat.class).isEmpty());
  }

  @Test
  void watchdogRefusesAClientWithoutCertificate() throws Exception {
    TestWatchdog watchdog = tlsWatchdog();
    HeartbeatClient good = client("localhost", watchdog.port(), clientContext(true), null);
    await().atMost(PATIENCE).until(() -> good.status().linkUp());
    int hellosFromGood = watchdog.framesOf(Hello.class).size();

    HeartbeatClient anonymous = client("localhost", watchdog.port(), clientContext(false), null);

    await().atMost(PATIENCE).until(() -> anonymous.status().connectAttempts() >= 2
        && anonymous.status().lastError() != null);
    assertThat(anonymous.status().linkUp()).isFalse();
    assertThat(watchdog.framesOf(Hello.class)).hasSize(hellosFromGood);
    System.out.println("client without certificate: " + anonymous.status().lastError());
  }

  @Test
  void clientRefusesAWatchdogWhoseCertificateDoesNotNameTheHost() throws Exception {
    TestWatchdog watchdog = tlsWatchdog();
    HeartbeatClient good = client("localhost", watchdog.port(), clientContext(true), null);
    await().atMost(PATIENCE).until(() -> good.status().linkUp());

    // Same address, but a name the watchdog's certificate does not carry.
    HostsFileEntriesResolver impostor = new HostsFileEntriesResolver() {
      @Override
      public InetAddress address(String name, ResolvedAddressTypes types) {
        return name.equals("pg-1.pg.test") ? InetAddress.getLoopbackAddress() : null;
      }
    };
    HeartbeatClient wrongName =
        client("pg-1.pg.test", watchdog.port(), clientContext(true), impostor);

    await().atMost(PATIENCE).until(() -> wrongName.status().connectAttempts() >= 2
        && wrongName.status().lastError() != null);
    assertThat(wrongName.status().linkUp()).isFalse();
    assertThat(wrongName.status().lastError()).contains("TLS handshake failed", "pg-1.pg.test");
    System.out.println("watchdog certificate for another name: "
        + wrongName.status().lastError());
  }

  private TestWatchdog tlsWatchdog() throws Exception {
    SslContext server = SslContextBuilder
        .forServer(file("watchdog.crt"), file("watchdog.key"))
        .trustManager(file("ca.crt"))
        .clientAuth(ClientAuth.REQUIRE)
        .build();
    TestWatchdog watchdog = new TestWatchdog(group, "127.0.0.1", 0, PRIMARY, server);
    cleanup.add(watchdog);
    return watchdog;
  }

  private HeartbeatClient client(String host, int port, SslContext tls,
      HostsFileEntriesResolver hosts) {
    HeartbeatClient client = HeartbeatClient.builder(group, host, port)
        .timing(FAST).sslContext(tls).hostsFile(hosts).build().start();
    cleanup.add(client);
    return client;
  }

  private static SslContext clientContext(boolean withCertificate) throws IOException {
    SslContextBuilder builder = SslContextBuilder.forClient().trustManager(file("ca.crt"));
    if (withCertificate) {
      builder.keyManager(file("conmgr.crt"), file("conmgr.key"));
    }
    return builder.build();
  }

  private static File file(String name) {
    return pki.resolve(name).toFile();
  }
}
