package io.pgconmgr.watchdog;

/**
 * SQL that makes pgx_stat_watchdog readable on every instance: a file_fdw foreign table over the
 * CSV each watchdog keeps (docs/watchdog.md). Run once on the primary; it replicates.
 */
public final class StatViewSql {
  /** Default file name, relative to each instance's data directory. */
  public static final String DEFAULT_FILENAME = "pgx_stat_watchdog.csv";

  private StatViewSql() {
  }

  /**
   * Statements creating pgx_stat_watchdog over {@code filename} as PostgreSQL sees it: a relative
   * name is read from each instance's own data directory, so one definition replicated to every
   * standby still shows each instance its own sessions.
   */
  public static String setup(String filename) {
    String literal = "'" + filename.replace("'", "''") + "'";
    return """
        CREATE EXTENSION IF NOT EXISTS file_fdw;
        CREATE SERVER IF NOT EXISTS pgx_watchdog FOREIGN DATA WRAPPER file_fdw;
        CREATE FOREIGN TABLE IF NOT EXISTS pgx_stat_watchdog (
            conmgr_addr        inet,
            conmgr_port        integer,
            heartbeat_interval integer,
            heartbeat_timeout  integer
        ) SERVER pgx_watchdog
          OPTIONS (filename %s, format 'csv', header 'true');
        COMMENT ON FOREIGN TABLE pgx_stat_watchdog IS
            'conmgr heartbeat sessions of this instance''s watchdog (one row per conmgr)';
        GRANT SELECT ON pgx_stat_watchdog TO pg_monitor;
        """.formatted(literal);
  }

  /** Statements removing what {@link #setup(String)} created (file_fdw itself is left). */
  public static String removal() {
    return """
        DROP FOREIGN TABLE IF EXISTS pgx_stat_watchdog;
        DROP SERVER IF EXISTS pgx_watchdog;
        -- file_fdw may serve other tables; drop it only if nothing else uses it:
        -- DROP EXTENSION file_fdw;
        """;
  }
}
