package io.pgconmgr.conmgr;

import io.pgconmgr.testkit.Cmd;
import java.time.Duration;
import java.util.List;

/** Debian's psql as a real client: one command, unaligned tuples-only output. */
public final class Psql {

  private Psql() {
  }

  public static boolean available() {
    return Cmd.exec(List.of("psql", "--version"), Duration.ofSeconds(10)).ok();
  }

  /** Runs {@code sql} against {@code conninfo}; returns the result (output holds rows or the error). */
  public static Cmd.Result run(String conninfo, String sql) {
    return Cmd.exec(List.of("psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", conninfo + " connect_timeout=20",
        "-c", sql), Duration.ofSeconds(60));
  }

  /** {@link #run} with the password in PGPASSWORD, as scripts pass it; -w: never prompt. */
  public static Cmd.Result run(String conninfo, String sql, String password) {
    return Cmd.exec(List.of("env", "PGPASSWORD=" + password, "psql", "-X", "-w", "-v", "ON_ERROR_STOP=1", "-At", "-d",
        conninfo + " connect_timeout=20", "-c", sql), Duration.ofSeconds(60));
  }

  /** {@link #run} that must succeed; returns the trimmed output. */
  public static String query(String conninfo, String sql) {
    Cmd.Result r = run(conninfo, sql);
    if (!r.ok()) {
      throw new AssertionError("psql failed (" + r.exitCode() + "): " + r.output());
    }
    return r.output().trim();
  }

  public static String conmgr(java.net.InetSocketAddress listener, String extra) {
    return "host=" + listener.getAddress().getHostAddress() + " port=" + listener.getPort()
        + " user=postgres dbname=postgres " + extra;
  }
}
