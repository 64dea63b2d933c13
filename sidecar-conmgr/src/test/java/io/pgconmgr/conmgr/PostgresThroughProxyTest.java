package io.pgconmgr.conmgr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.pgconmgr.protocol.conf.Listener;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.io.DataInputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The proxy's byte path with real PostgreSQL (TLS on) and real clients: TLS, authentication and
 * cancel pass through untouched. Roles are fed to the instance table by the test here; the
 * heartbeat-driven tests are in the integration tests with watchdogs.
 */
class PostgresThroughProxyTest {

  static final String SCRAM_USER = "scramuser";
  static final String SCRAM_PASSWORD = "s3cret-through-conmgr";
  static PgCluster cluster;
  static Conmgr conmgr;
  static InetSocketAddress rw;
  static InetSocketAddress ro;

  @BeforeAll
  static void start() throws Exception {
    cluster = PgCluster.builder().standbys(1).ssl().namePrefix("proxy")
        .hba("host all " + SCRAM_USER + " 127.0.0.1/32 scram-sha-256").start();
    PgInstance p = cluster.primary();
    PgInstance s = cluster.standby(0);
    var conf = TestConf.conf(List.of(TestConf.instance(0, p.port(), 1), TestConf.instance(1, s.port(), 1)),
        List.of(new Listener(TestConf.freePort(), TargetSessionAttrs.READ_ONLY)), 2000, 0);
    conmgr = Conmgr.start(conf, new Conmgr.Options(null, false, false));
    conmgr.table().linkUp(0, new Attributes(true, false, false, 1, 1, -1, 170006), null);
    conmgr.table().linkUp(1, new Attributes(true, true, false, 1, 1, 0, 170006), null);
    rw = conmgr.listenAddresses().get(0);
    ro = conmgr.listenAddresses().get(1);
  }

  @AfterAll
  static void stop() {
    if (conmgr != null) {
      conmgr.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void psqlWithSslmodeRequireGetsTlsEndToEndThroughTheProxy() {
    assumeThat(Psql.available()).as("needs psql (Debian postgresql-client)").isTrue();
    String sql = "select ssl from pg_stat_ssl where pid = pg_backend_pid()";
    assertThat(Psql.query(Psql.conmgr(rw, "sslmode=require"), sql)).isEqualTo("t");
    assertThat(Psql.query(Psql.conmgr(rw, "sslmode=require"), "select pg_is_in_recovery()")).isEqualTo("f");
    assertThat(Psql.query(Psql.conmgr(ro, "sslmode=require"), "select pg_is_in_recovery()")).isEqualTo("t");
    assertThat(Psql.query(Psql.conmgr(rw, "sslmode=disable"), sql)).as("clear text passes too").isEqualTo("f");
  }

  @Test
  void pgjdbcWithSslRoutesByListenerAndCancelsThroughTheProxy() throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:%d/postgres?user=postgres&sslmode=require";
    try (Connection c = DriverManager.getConnection(url.formatted(rw.getPort()));
         Statement st = c.createStatement()) {
      ResultSet r = st.executeQuery("select pg_is_in_recovery(), ssl from pg_stat_ssl where pid = pg_backend_pid()");
      r.next();
      assertThat(r.getBoolean(1)).isFalse();
      assertThat(r.getBoolean(2)).isTrue();

      // The CancelRequest opens a second connection through conmgr; it must reach the right backend.
      long t0 = System.nanoTime();
      CompletableFuture<Void> cancel = Cancels.after(st, Duration.ofMillis(500));
      try {
        st.execute("select pg_sleep(30)");
        org.junit.jupiter.api.Assertions.fail("pg_sleep was not cancelled");
      } catch (SQLException e) {
        assertThat(e.getSQLState()).isEqualTo("57014");
      }
      cancel.get(10, TimeUnit.SECONDS);
      assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(20_000);
    }
    try (Connection c = DriverManager.getConnection(url.formatted(ro.getPort()));
         ResultSet r = c.createStatement().executeQuery("select pg_is_in_recovery()")) {
      r.next();
      assertThat(r.getBoolean(1)).isTrue();
    }
  }

  @Test
  void aRealPostmasterAnswersTheAwareOptionWithNegotiateProtocolVersion() throws Exception {
    // What docs/aware-client-protocol.md promises a driver: a real server says 'v', conmgr says 'M'.
    PgInstance p = cluster.primary();
    try (Socket s = new Socket(p.host(), p.port())) {
      s.setSoTimeout(10_000);
      var packet = io.pgconmgr.conmgr.proxy.StartupPacketDecoderTest.startup(
          Map.of("user", "postgres", "database", "postgres", "_pq_.conmgr_aware", "read-write"));
      byte[] bytes = new byte[packet.readableBytes()];
      packet.readBytes(bytes);
      packet.release();
      s.getOutputStream().write(bytes);
      assertThat((char) new DataInputStream(s.getInputStream()).readByte()).isEqualTo('v');
    }
  }

  @Test
  void directTlsWithoutSslRequestIsForwardedAsIs() throws Exception {
    // PostgreSQL 17's sslnegotiation=direct: the first bytes are a TLS ClientHello, not a startup packet.
    String url = "jdbc:postgresql://127.0.0.1:%d/postgres?user=postgres&sslmode=require&sslNegotiation=direct";
    try (Connection c = DriverManager.getConnection(url.formatted(rw.getPort()));
         ResultSet r = c.createStatement().executeQuery("select ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
      r.next();
      assertThat(r.getBoolean(1)).isTrue();
    }
  }

  @Test
  void scramSha256AuthenticationPassesThroughForPgjdbcAndPsqlAndAWrongPasswordGetsPostgresError()
      throws Exception {
    try (Connection c = DriverManager.getConnection(cluster.primary().jdbcUrl());
         Statement st = c.createStatement()) {
      st.execute("set password_encryption = 'scram-sha-256'");
      st.execute("drop role if exists " + SCRAM_USER);
      st.execute("create role " + SCRAM_USER + " login password '" + SCRAM_PASSWORD + "'");
    }
    String url = "jdbc:postgresql://127.0.0.1:%d/postgres?user=%s&password=%s&sslmode=%s";
    // Healthy: the role authenticates with SCRAM directly at PostgreSQL, so the hba rule applies.
    PgInstance p = cluster.primary();
    try (Connection c = DriverManager.getConnection(url.formatted(p.port(), SCRAM_USER, SCRAM_PASSWORD, "disable"))) {
      assertThat(c.isValid(5)).isTrue();
    }

    // Through the proxy: plain SCRAM-SHA-256, and SCRAM-SHA-256-PLUS (channel binding to the TLS
    // session, which only works when TLS is end to end with PostgreSQL).
    for (String sslmode : List.of("disable", "require")) {
      try (Connection c = DriverManager.getConnection(
          url.formatted(rw.getPort(), SCRAM_USER, SCRAM_PASSWORD, sslmode) + "&channelBinding=prefer");
           ResultSet r = c.createStatement().executeQuery(
               "select current_user, pg_is_in_recovery(), ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
        r.next();
        assertThat(r.getString(1)).isEqualTo(SCRAM_USER);
        assertThat(r.getBoolean(2)).as("read-write listener").isFalse();
        assertThat(r.getBoolean(3)).as("sslmode=" + sslmode).isEqualTo(!sslmode.equals("disable"));
      }
    }

    SQLException wrong = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
        () -> DriverManager.getConnection(url.formatted(rw.getPort(), SCRAM_USER, "wrong", "disable")).close());
    System.out.println("PgJDBC, wrong password through conmgr: " + wrong.getSQLState() + " " + wrong.getMessage());
    assertThat(wrong.getSQLState()).as("PostgreSQL's invalid_password").isEqualTo("28P01");
    assertThat(wrong.getMessage()).contains("password authentication failed for user \"" + SCRAM_USER + "\"");

    if (Psql.available()) {
      String conninfo = "host=127.0.0.1 port=" + rw.getPort() + " user=" + SCRAM_USER + " dbname=postgres";
      for (String opts : List.of("sslmode=disable",
          "sslmode=require channel_binding=require")) {
        io.pgconmgr.testkit.Cmd.Result ok = Psql.run(conninfo + " " + opts, "select current_user", SCRAM_PASSWORD);
        assertThat(ok.ok()).as(opts + ": " + ok.output()).isTrue();
        assertThat(ok.output().trim()).isEqualTo(SCRAM_USER);
      }
      io.pgconmgr.testkit.Cmd.Result bad = Psql.run(conninfo + " sslmode=disable", "select 1", "wrong");
      System.out.println("psql, wrong password through conmgr: " + bad.output().trim());
      assertThat(bad.ok()).isFalse();
      assertThat(bad.output()).contains("password authentication failed for user \"" + SCRAM_USER + "\"");
    }
  }
}
