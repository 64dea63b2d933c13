package io.pgconmgr.conmgr.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;

/** A query running through conmgr in the background, and when and how it ended. */
final class InFlight {

  final CompletableFuture<SQLException> failure = new CompletableFuture<>();
  volatile long endedNanos;

  /** Opens a connection (checked with a first query: the healthy state), then runs {@code sql}. */
  static InFlight start(String url, String sql) throws SQLException {
    Connection c = DriverManager.getConnection(url);
    try (ResultSet r = c.createStatement().executeQuery("select 1")) {
      r.next();
    }
    InFlight f = new InFlight();
    Thread t = new Thread(() -> {
      try (c; Statement st = c.createStatement()) {
        st.execute(sql);
        f.endedNanos = System.nanoTime();
        f.failure.complete(null);
      } catch (SQLException e) {
        f.endedNanos = System.nanoTime();
        f.failure.complete(e);
      }
    }, "in-flight");
    t.setDaemon(true);
    t.start();
    return f;
  }

  /** Waits until a backend runs {@code sql} on the server reachable with {@code directUrl}. */
  static void awaitRunning(String directUrl, String sql) throws Exception {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (count(directUrl, sql) > 0) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("query never started: " + sql);
  }

  /** Backends running {@code sql} (other than the asking one). */
  static int count(String directUrl, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(directUrl);
         var ps = c.prepareStatement("select count(*) from pg_stat_activity where query = ? and pid <> pg_backend_pid()")) {
      ps.setString(1, sql);
      try (ResultSet r = ps.executeQuery()) {
        r.next();
        return r.getInt(1);
      }
    }
  }
}
