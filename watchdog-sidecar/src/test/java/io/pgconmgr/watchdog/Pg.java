package io.pgconmgr.watchdog;

import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** Test helpers around the test kit's PostgreSQL: clients from chosen loopback addresses. */
final class Pg {
  private Pg() {
  }

  /**
   * A cluster whose instances accept clients from all of 127.0.0.0/8, so each test peer and its
   * SQL connections can have their own source address (initdb trusts 127.0.0.1 only).
   */
  static PgCluster cluster(int standbys) throws IOException {
    PgCluster cluster = PgCluster.builder().standbys(standbys).namePrefix("wd").start();
    for (PgInstance i : cluster.instances()) {
      Files.writeString(i.dataDir().resolve("pg_hba.conf"),
          "\nhost all all 127.0.0.0/8 trust\n", StandardOpenOption.APPEND);
      i.reload();
    }
    return cluster;
  }

  /** A SQL connection whose client_addr is {@code sourceIp}. */
  static Connection connectFrom(PgInstance pg, String sourceIp) throws SQLException {
    Properties p = new Properties();
    p.setProperty("localSocketAddress", sourceIp);
    p.setProperty("ApplicationName", "app-" + sourceIp);
    return pg.connect("postgres", p);
  }

  static int pid(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); var rs = st.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** Whether the backend of {@code c} still answers. */
  static boolean alive(Connection c) {
    try (Statement st = c.createStatement()) {
      st.setQueryTimeout(5);
      st.execute("SELECT 1");
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  static WatchdogSettings.Builder settings(PgInstance pg) {
    return WatchdogSettings.builder(pg.conninfo("postgres")).port(0).httpPort(0)
        .listenAddress("127.0.0.1");
  }
}
