package io.pgconmgr.conmgr.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgconmgr.conmgr.Cancels;
import io.pgconmgr.conmgr.Conmgr;
import io.pgconmgr.conmgr.Psql;
import io.pgconmgr.conmgr.TestConf;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.testkit.PgCluster;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * conmgr with the real kernel relay agent and a real PostgreSQL (TLS on): once a connection is
 * handed over, conmgr never reads from either socket again, so every byte that arrives got there
 * through the kernel's sockhash. Needs root (the agent loads a BPF program) and gcc.
 */
class KernelRelayTest {

  static PgCluster cluster;
  static Path dir;
  static KernelRelayAgent agent;
  static Conmgr conmgr;

  @BeforeAll
  static void start() throws Exception {
    KernelRelayAgent.assumeAvailable();
    cluster = PgCluster.builder().ssl().namePrefix("kernel").start();
    dir = Files.createTempDirectory("kernel-relay-");
    agent = KernelRelayAgent.start(dir.resolve("agent.sock"));
    conmgr = startConmgr(dir.resolve("agent.sock"));
    await().atMost(Duration.ofSeconds(10)).until(() -> metric(conmgr, "conmgr_kernel_relay_links_up") == 1);
  }

  @AfterAll
  static void stop() throws Exception {
    if (conmgr != null) {
      conmgr.close();
    }
    if (agent != null) {
      agent.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  static Conmgr startConmgr(Path socket) throws Exception {
    ConmgrConf b = TestConf.conf(List.of(TestConf.instance(0, cluster.primary().port(), 1)), List.of(), 2000, 0);
    ConmgrConf conf = new ConmgrConf(b.port(), b.targetSessionAttrs(), b.listeners(), b.listenAddresses(),
        b.instances(), b.heartbeatIntervalSeconds(), b.heartbeatTimeoutSeconds(), b.heartbeatConnectIntervalSeconds(),
        b.heartbeatConnectTimeoutSeconds(), b.logDestinations(), b.syslogFacility(), b.syslogIdent(),
        b.logMinMessages(), b.maxConnections(), b.httpPort(), b.routeWaitTimeoutMs(), socket.toString());
    Conmgr c = Conmgr.start(conf, new Conmgr.Options(null, false, false));
    c.table().linkUp(0, new Attributes(true, false, false, 1, 1, -1, 170006), null);
    return c;
  }

  static String url(Conmgr c, String params) {
    InetSocketAddress a = c.listenAddresses().get(0);
    // A socket timeout: bytes the kernel failed to relay would otherwise hang the test, not fail it.
    return "jdbc:postgresql://127.0.0.1:" + a.getPort() + "/postgres?user=postgres&socketTimeout=20" + params;
  }

  /** The value of the first series whose line starts with {@code series} (a name, or a name and its tags). */
  static double metric(Conmgr c, String series) {
    return c.metrics().scrape().lines().filter(l -> l.startsWith(series + " ") || l.startsWith(series + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst()
        .orElseThrow(() -> new AssertionError(series + " not in the scrape"));
  }

  static double handOvers(Conmgr c, String result) {
    return metric(c, "conmgr_kernel_relay_handovers_total{result=\"" + result + "\"}");
  }

  static String md5(String text) throws Exception {
    byte[] d = MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.US_ASCII));
    return String.format("%032x", new BigInteger(1, d));
  }

  @Test
  void tlsQueriesAndTenMegabytesOfRowsPassThroughTheKernel() throws Exception {
    double before = handOvers(conmgr, "kernel");
    try (Connection c = DriverManager.getConnection(url(conmgr, "&sslmode=require"));
         Statement st = c.createStatement()) {
      ResultSet ssl = st.executeQuery("select ssl from pg_stat_ssl where pid = pg_backend_pid()");
      ssl.next();
      assertThat(ssl.getBoolean(1)).as("TLS end to end, through the kernel").isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> metric(conmgr, "conmgr_kernel_relay_connections") == 1);
      ResultSet rows = st.executeQuery("select i, repeat(md5(i::text), 1000) from generate_series(1, 320) i");
      int n = 0;
      while (rows.next()) {
        n++;
        assertThat(rows.getInt(1)).isEqualTo(n);
        assertThat(rows.getString(2)).isEqualTo(md5(Integer.toString(n)).repeat(1000));
      }
      assertThat(n).isEqualTo(320);
    }
    assertThat(handOvers(conmgr, "kernel")).isEqualTo(before + 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> metric(conmgr, "conmgr_kernel_relay_connections") == 0);
    assertThat(Psql.query(Psql.conmgr(conmgr.listenAddresses().get(0), "sslmode=disable"), "select 41 + 1"))
        .isEqualTo("42");
    assertThat(handOvers(conmgr, "kernel")).isEqualTo(before + 2);
  }

  /**
   * A client that vanishes with a reset and no Terminate, as a killed process's socket does: the server
   * would keep the idle backend forever; conmgr, which sees the hang-up, closes the instance side.
   */
  @Test
  void aClientThatResetsItsConnectionEndsItsBackend() throws Exception {
    int pid;
    try (Socket s = new Socket("127.0.0.1", conmgr.listenAddresses().get(0).getPort())) {
      s.setSoTimeout(20_000);
      sendStartup(s);
      pid = backendPidAtReadyForQuery(new DataInputStream(s.getInputStream()));
      await().atMost(Duration.ofSeconds(10)).until(() -> metric(conmgr, "conmgr_kernel_relay_connections") >= 1);
      s.setSoLinger(true, 0);
    }
    await().atMost(Duration.ofSeconds(15)).until(() ->
        cluster.primary().queryScalar("select count(*) from pg_stat_activity where pid = " + pid).equals("0"));
  }

  /** A StartupMessage (protocol 3.0) for the superuser, trust authentication on this cluster. */
  static void sendStartup(Socket s) throws Exception {
    DataOutputStream out = new DataOutputStream(s.getOutputStream());
    byte[] parameters = "user\0postgres\0database\0postgres\0\0".getBytes(StandardCharsets.US_ASCII);
    out.writeInt(8 + parameters.length);
    out.writeInt(3 << 16);
    out.write(parameters);
    out.flush();
  }

  /** Reads the server's startup answers (trust authentication) up to ReadyForQuery; returns BackendKeyData's pid. */
  static int backendPidAtReadyForQuery(DataInputStream in) throws Exception {
    int pid = -1;
    for (;;) {
      int type = in.readUnsignedByte();
      byte[] body = new byte[in.readInt() - 4];
      in.readFully(body);
      if (type == 'K') {
        pid = new DataInputStream(new java.io.ByteArrayInputStream(body)).readInt();
      } else if (type == 'E') {
        throw new AssertionError("server refused the startup: " + new String(body, StandardCharsets.UTF_8));
      } else if (type == 'Z') {
        return pid;
      }
    }
  }

  /**
   * The kernel sends what it redirects from a work queue, so the server's FATAL message may still be
   * queued when conmgr sees the server's hang-up; closing the client at once lost it in 3 of 300
   * tries here. Hence the repetitions.
   */
  @Test
  void theServersLastWordsReachTheClientBeforeConmgrClosesIt() throws Exception {
    int tries = 300;
    List<String> lost = new ArrayList<>();
    for (int i = 0; i < tries; i++) {
      try (Connection c = DriverManager.getConnection(url(conmgr, ""))) {
        ResultSet r = c.createStatement().executeQuery("select pg_backend_pid()");
        r.next();
        cluster.primary().execute("select pg_terminate_backend(" + r.getInt(1) + ")");
        try {
          c.createStatement().executeQuery("select 1");
          lost.add("the query after the termination succeeded");
        } catch (SQLException e) {
          // Without the ErrorResponse that precedes the server's FIN, PgJDBC reports an I/O error instead.
          if (!e.getMessage().contains("terminating connection due to administrator command")) {
            lost.add(e.getMessage());
          }
        }
      }
    }
    assertThat(lost).as("tries of %d whose client did not get the server's FATAL message", tries).isEmpty();
  }

  /**
   * An agent that stops answering (SIGSTOP here) is left after {@link io.pgconmgr.conmgr.proxy.KernelRelay}'s
   * two seconds; the client whose pair it held is closed, since the pair may have gone in or not.
   */
  @Test
  void aStuckAgentIsLeftAndTheClientItHeldIsClosed() throws Exception {
    Path socket = dir.resolve("stuck.sock");
    try (KernelRelayAgent stuck = KernelRelayAgent.start(socket)) {
      Conmgr c = startConmgr(socket);
      try {
        await().atMost(Duration.ofSeconds(10)).until(() -> metric(c, "conmgr_kernel_relay_links_up") == 1);
        stuck.stopped(true);
        long t0 = System.nanoTime();
        // sslmode=disable: with prefer, PgJDBC would try again without TLS, by then relayed by conmgr
        assertThatThrownBy(() -> DriverManager.getConnection(url(c, "&sslmode=disable&loginTimeout=20")).close())
            .isInstanceOf(SQLException.class);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until the client was closed").isBetween(1_500L, 15_000L);
        assertThat(metric(c, "conmgr_kernel_relay_agent_losses_total")).isEqualTo(1);
        // Meanwhile new clients are relayed by conmgr.
        assertThat(Psql.query(Psql.conmgr(c.listenAddresses().get(0), ""), "select 'conmgr while stuck'"))
            .isEqualTo("conmgr while stuck");
        stuck.stopped(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> metric(c, "conmgr_kernel_relay_links_up") == 1);
        try (Connection k = DriverManager.getConnection(url(c, ""))) {
          k.createStatement().execute("select 1");
        }
        assertThat(handOvers(c, "kernel")).isEqualTo(1);
      } finally {
        c.close();
      }
    }
  }

  /**
   * While a stuck agent holds a pair's descriptors, the instance hangs up (PostgreSQL's
   * authentication_timeout, 1 s here, runs out: the first packet is not forwarded before the agent
   * answers). The agent's copies keep the client's socket open, so conmgr must shut it down for the
   * client to see the end before the agent comes back.
   */
  @Test
  void anInstanceThatHangsUpDuringAStuckHandOverEndsTheClientAtOnce() throws Exception {
    Path socket = dir.resolve("held.sock");
    try (KernelRelayAgent stuck = KernelRelayAgent.start(socket)) {
      Conmgr c = startConmgr(socket);
      cluster.primary().execute("alter system set authentication_timeout = '1s'");
      cluster.primary().execute("select pg_reload_conf()");
      try (Socket client = new Socket("127.0.0.1", c.listenAddresses().get(0).getPort())) {
        await().atMost(Duration.ofSeconds(10)).until(() -> metric(c, "conmgr_kernel_relay_links_up") == 1);
        stuck.stopped(true);
        client.setSoTimeout(15_000);
        sendStartup(client);
        long t0 = System.nanoTime();
        int read;
        try {
          read = client.getInputStream().read();
        } catch (java.net.SocketException reset) {
          read = -1;
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(read).as("the end of the stream, not data").isEqualTo(-1);
        assertThat(ms).as("ms until the client saw the end, the agent still stopped").isLessThan(10_000);
      } finally {
        stuck.stopped(false);
        cluster.primary().execute("alter system reset authentication_timeout");
        cluster.primary().execute("select pg_reload_conf()");
        c.close();
      }
    }
  }

  @Test
  void aCancelRequestReachesABackendTheKernelRelays() throws Exception {
    try (Connection c = DriverManager.getConnection(url(conmgr, "")); Statement st = c.createStatement()) {
      CompletableFuture<Void> cancel = Cancels.after(st, Duration.ofMillis(500));
      assertThatThrownBy(() -> st.execute("select pg_sleep(30)")).isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
      cancel.get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> metric(conmgr, "conmgr_kernel_relay_connections") == 1);
    }
  }

  @Test
  void conmgrRelaysWhileTheAgentIsAwayAndTheKernelKeepsRelayingWhatItHadWhenTheAgentDies() throws Exception {
    Path socket = dir.resolve("late.sock");
    Conmgr late = startConmgr(socket);
    try {
      assertThat(metric(late, "conmgr_kernel_relay_links_up")).isZero();
      assertThat(Psql.query(Psql.conmgr(late.listenAddresses().get(0), ""), "select 'relayed by conmgr'"))
          .isEqualTo("relayed by conmgr");
      assertThat(handOvers(late, "unavailable")).isEqualTo(1);

      // Room for one pair: the second connection at once is refused, and relayed by conmgr.
      KernelRelayAgent second = KernelRelayAgent.start(socket, "-n", "1");
      try (second) {
        await().atMost(Duration.ofSeconds(10)).until(() -> metric(late, "conmgr_kernel_relay_links_up") == 1);
        try (Connection c = DriverManager.getConnection(url(late, "")); Statement st = c.createStatement()) {
          st.execute("select 1");
          assertThat(handOvers(late, "kernel")).isEqualTo(1);
          try (Connection refused = DriverManager.getConnection(url(late, ""));
               ResultSet r = refused.createStatement().executeQuery("select 'relayed by conmgr, the sockhash full'")) {
            r.next();
            assertThat(r.getString(1)).isEqualTo("relayed by conmgr, the sockhash full");
          }
          assertThat(handOvers(late, "refused")).isEqualTo(1);
          second.kill();
          await().atMost(Duration.ofSeconds(10)).until(() -> metric(late, "conmgr_kernel_relay_links_up") == 0);
          Thread.sleep(2000);
          // Each socket holds the verdict program, which holds the sockhash: the connection lives on.
          ResultSet rows = st.executeQuery("select repeat(md5(i::text), 1000) from generate_series(1, 64) i");
          long bytes = 0;
          while (rows.next()) {
            bytes += rows.getString(1).length();
          }
          assertThat(bytes).isEqualTo(64L * 32 * 1000);
          assertThat(metric(late, "conmgr_kernel_relay_connections")).isEqualTo(1);
        }
      }
      assertThat(metric(late, "conmgr_kernel_relay_agent_losses_total")).isEqualTo(1);
      assertThat(Psql.query(Psql.conmgr(late.listenAddresses().get(0), ""), "select 'conmgr again'"))
          .isEqualTo("conmgr again");
      assertThat(handOvers(late, "unavailable")).isEqualTo(2);
    } finally {
      late.close();
    }
  }
}
