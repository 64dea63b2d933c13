package io.pgconmgr.conmgr.proxy;

import static io.pgconmgr.conmgr.TestConf.conf;
import static io.pgconmgr.conmgr.TestConf.instance;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.pgconmgr.conmgr.AwareClient;
import io.pgconmgr.conmgr.Conmgr;
import io.pgconmgr.conmgr.TestConf;
import io.pgconmgr.protocol.conf.Listener;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy and aware-client paths over real sockets, with plain TCP servers standing in for the
 * instances and the instance table fed by the test (heartbeats and PostgreSQL are exercised by
 * the integration tests).
 */
class ProxyTest {

  static final Attributes PRIMARY = new Attributes(true, false, false, 1, 7, -1, 170006);
  static final Attributes STANDBY = new Attributes(true, true, false, 1, 7, 0, 170006);

  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  /** A TCP server that answers "I<n>" to the first bytes it receives, then echoes, and records what it got. */
  final class FakeInstance implements AutoCloseable {
    final int number;
    final ServerSocket server;
    final List<byte[]> firstReads = new CopyOnWriteArrayList<>();
    final List<Socket> accepted = new CopyOnWriteArrayList<>();

    FakeInstance(int number) throws IOException {
      this(number, java.net.InetAddress.getLoopbackAddress(), 0);
    }

    FakeInstance(int number, java.net.InetAddress bind, int port) throws IOException {
      this.number = number;
      this.server = new ServerSocket(port, 50, bind);
      Thread t = new Thread(this::acceptLoop, "fake-instance-" + number);
      t.setDaemon(true);
      t.start();
      closing.add(this);
    }

    int port() {
      return server.getLocalPort();
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          accepted.add(s);
          Thread t = new Thread(() -> serve(s));
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        byte[] buf = new byte[16384];
        int n = in.read(buf);
        if (n < 0) {
          return;
        }
        firstReads.add(java.util.Arrays.copyOf(buf, n));
        out.write(("I" + number).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        while ((n = in.read(buf)) >= 0) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // client went away
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : accepted) {
        s.close();
      }
    }
  }

  private Conmgr start(List<FakeInstance> instances, List<Listener> extra, int routeWaitMs, int max) throws Exception {
    var conf = conf(instances.stream().map(f -> instance(f.number, f.port(), 1)).toList(), extra, routeWaitMs, max);
    Conmgr c = Conmgr.start(conf, new Conmgr.Options(null, false, false));
    closing.add(0, c);
    return c;
  }

  static Socket connect(InetSocketAddress a) throws IOException {
    Socket s = new Socket(a.getAddress(), a.getPort());
    s.setSoTimeout(10_000);
    return s;
  }

  static byte[] bytes(ByteBuf b) {
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    b.release();
    return out;
  }

  static byte[] startupPacket(Map<String, String> params) {
    return bytes(StartupPacketDecoderTest.startup(params));
  }

  static String readAscii(InputStream in, int n) throws IOException {
    return new String(new DataInputStream(in).readNBytes(n), StandardCharsets.US_ASCII);
  }

  /** Reads one 'E' message and returns its fields by code. */
  static Map<Character, String> readError(InputStream in) throws IOException {
    DataInputStream d = new DataInputStream(in);
    assertThat((char) d.readByte()).isEqualTo('E');
    int len = d.readInt();
    return AwareClient.errorFields(d.readNBytes(len - 4));
  }

  /** The ErrorResponse fields an aware client asking for {@code target} is refused with. */
  static Map<Character, String> refusal(Conmgr c, String target) {
    try {
      AwareClient.ask(c.listenAddresses().get(0), target, Map.of(), new AwareClient.Address[1]).close();
    } catch (AwareClient.Refused e) {
      return e.fields;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    throw new AssertionError("expected a refusal for target " + target);
  }

  static void assertClosedByPeer(Socket s) throws IOException {
    try {
      assertThat(s.getInputStream().read()).as("connection closed by conmgr").isEqualTo(-1);
    } catch (java.net.SocketException reset) {
      // a reset is a close too
    }
  }

  @Test
  void routesReadWriteToThePrimaryAndForwardsBytesBothWaysUnchanged() throws Exception {
    FakeInstance p = new FakeInstance(0);
    FakeInstance s = new FakeInstance(1);
    Conmgr c = start(List.of(p, s), List.of(new Listener(TestConf.freePort(), TargetSessionAttrs.READ_ONLY)), 1000, 0);
    c.table().linkUp(0, PRIMARY, null);
    c.table().linkUp(1, STANDBY, null);

    byte[] startup = startupPacket(Map.of("user", "app", "database", "db"));
    try (Socket rw = connect(c.listenAddresses().get(0)); Socket ro = connect(c.listenAddresses().get(1))) {
      rw.getOutputStream().write(startup);
      ro.getOutputStream().write(startup);
      assertThat(readAscii(rw.getInputStream(), 2)).isEqualTo("I0");
      assertThat(readAscii(ro.getInputStream(), 2)).isEqualTo("I1");
      byte[] payload = new byte[100_000];
      new java.util.Random(1).nextBytes(payload);
      rw.getOutputStream().write(payload);
      assertThat(new DataInputStream(rw.getInputStream()).readNBytes(payload.length)).isEqualTo(payload);
    }
    assertThat(p.firstReads.get(0)).isEqualTo(startup);
    assertThat(c.metrics().scrape()).contains("conmgr_routing_decisions_total{instance=\"0\",mode=\"proxy\",target=\"read-write\"} 1.0");
  }

  @Test
  void linkLossClosesEveryClientProxiedToThatInstanceAtOnce() throws Exception {
    FakeInstance p = new FakeInstance(0);
    FakeInstance s = new FakeInstance(1);
    Conmgr c = start(List.of(p, s), List.of(new Listener(TestConf.freePort(), TargetSessionAttrs.STANDBY)), 1000, 0);
    c.table().linkUp(0, PRIMARY, null);
    c.table().linkUp(1, STANDBY, null);
    List<Socket> toPrimary = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Socket sock = connect(c.listenAddresses().get(0));
      closing.add(sock);
      sock.getOutputStream().write(startupPacket(Map.of("user", "u")));
      assertThat(readAscii(sock.getInputStream(), 2)).as("healthy: proxied to the primary").isEqualTo("I0");
      toPrimary.add(sock);
    }
    Socket toStandby = connect(c.listenAddresses().get(1));
    closing.add(toStandby);
    toStandby.getOutputStream().write(startupPacket(Map.of("user", "u")));
    assertThat(readAscii(toStandby.getInputStream(), 2)).isEqualTo("I1");

    long cut = System.nanoTime();
    c.table().linkDown(0, "heartbeat timeout");
    for (Socket sock : toPrimary) {
      sock.setSoTimeout(2000);
      assertClosedByPeer(sock);
    }
    System.out.printf("3 clients closed %d ms after link loss%n", (System.nanoTime() - cut) / 1_000_000);
    toStandby.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
    assertThat(readAscii(toStandby.getInputStream(), 1)).as("the standby's client is untouched").isEqualTo("x");
    assertThat(c.metrics().scrape()).contains("conmgr_link_losses_total{instance=\"0\"} 1.0");
  }

  @Test
  void withNoMatchingInstanceWaitsThenAnswersWithAnErrorNamingTheTarget() throws Exception {
    FakeInstance s = new FakeInstance(1);
    Conmgr c = start(List.of(s), List.of(), 1500, 0);
    c.table().linkUp(1, STANDBY, null);
    try (Socket sock = connect(c.listenAddresses().get(0))) {
      long t0 = System.nanoTime();
      sock.getOutputStream().write(startupPacket(Map.of("user", "u")));
      Map<Character, String> error = readError(sock.getInputStream());
      long waited = (System.nanoTime() - t0) / 1_000_000;
      System.out.println("error after " + waited + " ms: " + error);
      assertThat(waited).isGreaterThanOrEqualTo(1400);
      assertThat(error).containsEntry('S', "FATAL").containsEntry('C', "57P03");
      assertThat(error.get('M')).contains("target_session_attrs=read-write");
      assertThat(error.get('D')).contains("instance 1 (127.0.0.1:" + s.port() + "): standby");
      assertClosedByPeer(sock);
    }
  }

  @Test
  void aClientWaitingForAPrimaryIsRoutedAsSoonAsOneAppears() throws Exception {
    FakeInstance p = new FakeInstance(0);
    Conmgr c = start(List.of(p), List.of(), 10_000, 0);
    try (Socket sock = connect(c.listenAddresses().get(0))) {
      sock.getOutputStream().write(startupPacket(Map.of("user", "u")));
      Thread.sleep(300);
      c.table().linkUp(0, PRIMARY, null);
      assertThat(readAscii(sock.getInputStream(), 2)).isEqualTo("I0");
    }
  }

  @Test
  void sslRequestWithNoInstanceGetsNThenTheErrorOnTheClearTextStartup() throws Exception {
    Conmgr c = start(List.of(new FakeInstance(0)), List.of(), 200, 0);
    try (Socket sock = connect(c.listenAddresses().get(0))) {
      sock.getOutputStream().write(new byte[] {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f});
      assertThat(readAscii(sock.getInputStream(), 1)).isEqualTo("N");
      sock.getOutputStream().write(startupPacket(Map.of("user", "u")));
      assertThat(readError(sock.getInputStream())).containsEntry('C', "57P03");
    }
  }

  @Test
  void sslRequestIsForwardedAsIsWhenAnInstanceMatches() throws Exception {
    FakeInstance p = new FakeInstance(0);
    Conmgr c = start(List.of(p), List.of(), 200, 0);
    c.table().linkUp(0, PRIMARY, null);
    byte[] ssl = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f};
    try (Socket sock = connect(c.listenAddresses().get(0))) {
      sock.getOutputStream().write(ssl);
      assertThat(readAscii(sock.getInputStream(), 2)).isEqualTo("I0");
    }
    assertThat(p.firstReads.get(0)).isEqualTo(ssl);
  }

  @Test
  void overMaxConnectionsTheClientIsClosedWithoutAMessage() throws Exception {
    FakeInstance p = new FakeInstance(0);
    Conmgr c = start(List.of(p), List.of(), 200, 2);
    c.table().linkUp(0, PRIMARY, null);
    try (Socket a = connect(c.listenAddresses().get(0)); Socket b = connect(c.listenAddresses().get(0))) {
      a.getOutputStream().write(startupPacket(Map.of("user", "u")));
      b.getOutputStream().write(startupPacket(Map.of("user", "u")));
      assertThat(readAscii(a.getInputStream(), 2)).isEqualTo("I0");
      assertThat(readAscii(b.getInputStream(), 2)).isEqualTo("I0");
      ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
          .getLogger(io.pgconmgr.conmgr.ops.RefusalLog.class);
      ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
          new ch.qos.logback.core.read.ListAppender<>();
      logged.start();
      logger.addAppender(logged);
      try (Socket third = connect(c.listenAddresses().get(0))) {
        assertClosedByPeer(third);
      } finally {
        logger.detachAppender(logged);
      }
      assertThat(c.metrics().scrape()).contains("conmgr_clients_refused_total{reason=\"max_connections\"} 1.0");
      assertThat(logged.list).as("logged at LOG").anySatisfy(e -> {
        assertThat(e.getFormattedMessage()).contains("refused: max_connections (2) reached");
        assertThat(io.pgconmgr.conmgr.ops.Logging.rank(e)).isEqualTo(io.pgconmgr.protocol.conf.ConmgrConf.LogLevel.LOG);
      });
    }
    // Once the two are gone, a new client gets through again.
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() -> {
      try (Socket again = connect(c.listenAddresses().get(0))) {
        again.getOutputStream().write(startupPacket(Map.of("user", "u")));
        assertThat(readAscii(again.getInputStream(), 2)).isEqualTo("I0");
      }
    });
  }

  @Test
  void clientsFollowTheAddressTheHeartbeatResolvedForAHostName() throws Exception {
    // A StatefulSet pod comes back with a new IP behind the same DNS name: the heartbeat client
    // resolves the name again at every connect, and clients must go where it connected.
    FakeInstance before = new FakeInstance(0, java.net.InetAddress.getByName("127.0.0.1"), 0);
    FakeInstance after = new FakeInstance(1, java.net.InetAddress.getByName("127.0.0.2"), before.port());
    var conf = conf(List.of(new io.pgconmgr.protocol.conf.BackendInstance(0, "pg-0.pg.invalid", null, before.port(), 1)),
        List.of(), 1000, 0);
    Conmgr c = Conmgr.start(conf, new Conmgr.Options(null, false, false));
    closing.add(0, c);
    c.table().linkUp(0, PRIMARY, "127.0.0.1");
    try (Socket first = connect(c.listenAddresses().get(0))) {
      first.getOutputStream().write(startupPacket(Map.of("user", "u")));
      assertThat(readAscii(first.getInputStream(), 2)).as("healthy: at the first address").isEqualTo("I0");
    }
    c.table().linkDown(0, "heartbeat timeout");
    c.table().linkUp(0, PRIMARY, "127.0.0.2");
    try (Socket second = connect(c.listenAddresses().get(0))) {
      second.getOutputStream().write(startupPacket(Map.of("user", "u")));
      assertThat(readAscii(second.getInputStream(), 2)).as("at the address resolved on reconnect").isEqualTo("I1");
    }
  }

  @Test
  void aClientThatDoesNotReadStopsConmgrReadingFromTheInstanceUntilItReadsAgain() throws Exception {
    // Backpressure: conmgr reads from the instance only as fast as the client takes the bytes, so
    // a flooding server and a stalled client fill socket buffers, not conmgr's memory.
    long flood = 256L << 20;
    java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
    ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    closing.add(server);
    Thread flooder = new Thread(() -> {
      try (Socket s = server.accept()) {
        s.getInputStream().read(new byte[16384]);
        byte[] chunk = new byte[65536];
        OutputStream out = s.getOutputStream();
        while (written.get() < flood) {
          out.write(chunk);
          written.addAndGet(chunk.length);
        }
      } catch (IOException e) {
        // conmgr or the test closed it
      }
    }, "flooding-instance");
    flooder.setDaemon(true);
    flooder.start();
    Conmgr c = Conmgr.start(conf(List.of(instance(0, server.getLocalPort(), 1)), List.of(), 1000, 0),
        new Conmgr.Options(null, false, false));
    closing.add(0, c);
    c.table().linkUp(0, PRIMARY, null);
    try (Socket stalled = connect(c.listenAddresses().get(0))) {
      stalled.setReceiveBufferSize(65536);
      stalled.getOutputStream().write(startupPacket(Map.of("user", "u")));
      assertThat(stalled.getInputStream().read()).as("healthy: bytes flow").isGreaterThanOrEqualTo(0);
      long settled = -1;
      for (int i = 0; i < 50 && written.get() != settled; i++) {
        settled = written.get();
        Thread.sleep(200);
      }
      System.out.printf("stalled client: the instance could write %d MB of %d MB%n", written.get() >> 20, flood >> 20);
      assertThat(written.get()).as("bounded by socket buffers, not the whole flood").isLessThan(64L << 20);

      // The client reads again: conmgr resumes reading from the instance (writability regained) and
      // every byte of the flood arrives (fails by timeout when reading never resumes).
      stalled.setSoTimeout(30_000);
      long received = 1;
      byte[] buf = new byte[1 << 16];
      for (int n; (n = stalled.getInputStream().read(buf)) >= 0; ) {
        received += n;
      }
      assertThat(received).as("the whole flood, once the client reads again").isEqualTo(flood);
    }
  }

  @Test
  void aClientThatSendsNothingIsNotRoutedAndStaysHarmless() throws Exception {
    FakeInstance p = new FakeInstance(0);
    Conmgr c = start(List.of(p), List.of(), 200, 0);
    c.table().linkUp(0, PRIMARY, null);
    try (Socket idle = connect(c.listenAddresses().get(0))) {
      idle.setSoTimeout(500);
      try {
        idle.getInputStream().read();
      } catch (SocketTimeoutException expected) {
        // nothing is sent before the first packet
      }
      assertThat(p.accepted).isEmpty();
    }
  }

  @Test
  void awareClientGetsTheAddressAndTheFailureNoticeOnLinkLoss() throws Exception {
    FakeInstance p = new FakeInstance(0);
    FakeInstance s = new FakeInstance(1);
    Conmgr c = start(List.of(p, s), List.of(), 1000, 0);
    c.table().linkUp(0, PRIMARY, null);
    c.table().linkUp(1, STANDBY, null);
    AwareClient.Address[] address = new AwareClient.Address[1];
    try (AwareClient client = AwareClient.ask(c.listenAddresses().get(0), "read-only", Map.of("user", "u"), address)) {
      assertThat(address[0]).isEqualTo(new AwareClient.Address("127.0.0.1", s.port(), 1, "standby"));
      assertThat(client.awaitNotice(java.time.Duration.ofMillis(300))).as("healthy: no notice").isNull();
      assertThat(p.accepted).as("no proxied stream for an aware client").isEmpty();
      c.table().linkDown(1, "heartbeat timeout");
      AwareClient.Notice notice = client.awaitNotice(java.time.Duration.ofSeconds(5));
      assertThat(notice).isEqualTo(new AwareClient.Notice(1, "heartbeat timeout"));
      assertThat(client.awaitNotice(java.time.Duration.ofSeconds(5)).instance()).as("then closed").isEqualTo(-1);
    }
    // The listener's own target applies when the option is empty.
    AwareClient.ask(c.listenAddresses().get(0), "", Map.of(), address).close();
    assertThat(address[0].instance()).isZero();
    assertThat(address[0].role()).isEqualTo("primary");
  }

  @Test
  void awareClientWithAnUnknownTargetGetsInvalidParameterValue() throws Exception {
    Conmgr c = start(List.of(new FakeInstance(0)), List.of(), 1000, 0);
    assertThat(refusal(c, "read-mostly")).containsEntry('C', "22023")
        .hasEntrySatisfying('M', m -> assertThat(m).contains("read-mostly"));
  }

  @Test
  void awareClientWithNoMatchGetsTheErrorAfterTheWait() throws Exception {
    FakeInstance p = new FakeInstance(0);
    Conmgr c = start(List.of(p), List.of(), 500, 0);
    c.table().linkUp(0, PRIMARY, null);
    assertThat(refusal(c, "standby")).containsEntry('C', "57P03")
        .hasEntrySatisfying('M', m -> assertThat(m).contains("target_session_attrs=standby"));
  }

  @Test
  void aPortInUseFailsTheStartNamingThePortAndLeavesNothingBound() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
      int free = TestConf.freePort();
      var conf = conf(List.of(instance(0, 1, 1)), List.of(new Listener(free, TargetSessionAttrs.ANY),
          new Listener(taken.getLocalPort(), TargetSessionAttrs.ANY)), 100, 0);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> Conmgr.start(conf, new Conmgr.Options(null, false, false)))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("could not listen on 127.0.0.1:" + taken.getLocalPort());
      try (ServerSocket again = new ServerSocket(free, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
        assertThat(again.getLocalPort()).as("the listener bound before the failure was released").isEqualTo(free);
      }
    }
  }
}
