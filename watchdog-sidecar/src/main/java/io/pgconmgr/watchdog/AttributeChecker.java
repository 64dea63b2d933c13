package io.pgconmgr.watchdog;

import io.pgconmgr.protocol.heartbeat.Attributes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the local instance's attributes every {@code check_attr_interval} on its own
 * connection and reports each change; reconnects for as long as the instance is down.
 */
final class AttributeChecker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AttributeChecker.class);
  static final String APPLICATION_NAME = "pgconmgr-watchdog-checker";

  /*
   * Timeline: on a primary the timeline of the current WAL insert position (pg_control's
   * checkpoint timeline lags until the first checkpoint after a promotion); on a standby the
   * timeline it receives WAL on, else the one of its last restartpoint.
   * Replay lag: 0 when everything received is replayed (replay may even be ahead of what
   * streaming received, with WAL that was already local), else the age of the last replayed
   * transaction; an idle primary does not make a caught-up standby look late.
   * The system identifier is read once per connection (see connect()).
   */
  private static final String QUERY = """
      SELECT r.in_recovery,
             current_setting('default_transaction_read_only')::boolean,
             current_setting('server_version_num')::int,
             CASE WHEN r.in_recovery
               THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver WHERE received_tli > 0),
                             (SELECT timeline_id FROM pg_control_checkpoint()))
               ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint
             END,
             CASE WHEN NOT r.in_recovery THEN -1
                  WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
                  ELSE coalesce((extract(epoch FROM now() - pg_last_xact_replay_timestamp())
                                 * 1000)::bigint, -1)
             END,
             current_setting('max_connections')::int
        FROM (SELECT pg_is_in_recovery() AS in_recovery) r""";

  private final WatchdogSettings settings;
  private final WatchdogMetrics metrics;
  private final Consumer<Attributes> onChange;
  private final IntConsumer onMaxConnections;
  private final Thread thread;
  private volatile boolean running = true;
  private volatile Attributes current = Attributes.UNREACHABLE;
  private volatile int backendPid = -1;
  private long systemIdentifier;
  private Attributes lastReported = Attributes.UNREACHABLE;
  private Connection connection;
  private String lastError = "";

  AttributeChecker(WatchdogSettings settings, WatchdogMetrics metrics,
      Consumer<Attributes> onChange, IntConsumer onMaxConnections) {
    this.settings = settings;
    this.metrics = metrics;
    this.onChange = onChange;
    this.onMaxConnections = onMaxConnections;
    this.thread = new Thread(this::loop, "watchdog-checker");
    this.thread.setDaemon(true);
  }

  /** Runs the first check in the caller's thread, then keeps checking in the background. */
  void start() {
    checkOnce();
    thread.start();
  }

  /** Attributes of the last check. */
  Attributes current() {
    return current;
  }

  /** PID of this checker's backend (so the terminator spares it), -1 when not connected. */
  int backendPid() {
    return backendPid;
  }

  private void loop() {
    long intervalNanos = TimeUnit.MILLISECONDS.toNanos(settings.checkAttrIntervalMs());
    long next = System.nanoTime() + intervalNanos;
    while (running) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(wait);
        } catch (InterruptedException e) {
          return;
        }
      }
      if (!running) {
        return;
      }
      checkOnce();
      // Keep the cadence, but never run checks back to back after a slow one.
      next = Math.max(next + intervalNanos, System.nanoTime() + intervalNanos / 2);
    }
  }

  void checkOnce() {
    long t0 = System.nanoTime();
    boolean hadConnection = connection != null;
    Attributes now = check(t0, !hadConnection);
    if (!now.reachable() && hadConnection && running) {
      // The open connection failed (its backend terminated by an administrator, a reset, a stall
      // past the timeout): only a new connection that fails too says the instance is down. One
      // retry, so a frozen server costs two check timeouts.
      metrics.checkRetries.increment();
      now = check(System.nanoTime(), true);
    }
    metrics.checkLatency.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
    current = now;
    if (!sameForPeers(now, lastReported)) {
      log.info("instance attributes changed: {} -> {}", describe(lastReported), describe(now));
      lastReported = now;
      metrics.attributeChanges.increment();
      onChange.accept(now);
    }
  }

  /**
   * One check; {@code started} is when it began (System.nanoTime), for the warning of a failed one,
   * and {@code lastTry} whether a failure counts (else the caller retries on a new connection).
   */
  private Attributes check(long started, boolean lastTry) {
    try {
      if (connection == null) {
        connect();
      }
      // Bounded by the connection's socketTimeout, not a query timeout: PgJDBC's query timeout
      // sends a cancel request and waits for it, and a frozen server never answers that either.
      try (PreparedStatement st = connection.prepareStatement(QUERY)) {
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          onMaxConnections.accept(rs.getInt(6));
          lastError = "";
          return new Attributes(true, rs.getBoolean(1), rs.getBoolean(2), rs.getLong(4),
              systemIdentifier, rs.getLong(5), rs.getInt(3));
        }
      }
    } catch (SQLException | RuntimeException e) {
      // PgJDBC says "An I/O error occurred while sending to the backend." for a read timeout and a
      // reset alike: the cause tells them apart. A RuntimeException (PgJDBC's connect interrupted at
      // shutdown, or a bug) must not end the checker: peers would keep the last attributes forever.
      String error = e instanceof SQLException ? e.getMessage() : e.toString();
      if (e.getCause() != null) {
        error += " (" + e.getCause() + ")";
      }
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      if (!lastTry) {
        log.warn("attribute check of {} failed after {} ms on its open connection, checking again"
            + " on a new one: {}", settings.conninfo().jdbcUrl(), tookMs, error);
      } else if (!Objects.equals(error, lastError)) {
        log.warn("attribute check of {} failed after {} ms (retrying every {} ms): {}",
            settings.conninfo().jdbcUrl(), tookMs, settings.checkAttrIntervalMs(), error);
        lastError = error;
      }
      closeConnection();
      return Attributes.UNREACHABLE;
    }
  }

  private void connect() throws SQLException {
    connection = settings.conninfo().open(APPLICATION_NAME, timeoutSeconds());
    connection.setAutoCommit(true);
    // The system identifier cannot change while this connection lives (another cluster means
    // another postmaster): read it here, not at every check. pg_control_system() reads pg_control
    // from disk, in current releases under ControlFileLock, which a checkpoint holds while it
    // writes and syncs that file.
    try (var st = connection.createStatement();
         var rs = st.executeQuery(
             "SELECT pg_backend_pid(), (SELECT system_identifier FROM pg_control_system())")) {
      rs.next();
      systemIdentifier = rs.getLong(2);
      backendPid = rs.getInt(1);
    }
  }

  private int timeoutSeconds() {
    return Math.max(1, (settings.checkTimeoutMs() + 999) / 1000);
  }

  private void closeConnection() {
    backendPid = -1;
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // the connection is gone already
      }
      connection = null;
    }
  }

  /**
   * Whether peers already know {@code b} when they know {@code a}: the replay lag counts only
   * when it moves to another order of magnitude, so a lagging standby does not flood the peers.
   */
  static boolean sameForPeers(Attributes a, Attributes b) {
    return a.reachable() == b.reachable() && a.inRecovery() == b.inRecovery()
        && a.defaultTransactionReadOnly() == b.defaultTransactionReadOnly()
        && a.timeline() == b.timeline() && a.systemIdentifier() == b.systemIdentifier()
        && a.serverVersionNum() == b.serverVersionNum()
        && lagBucket(a.replayLagMs()) == lagBucket(b.replayLagMs());
  }

  /** -1 unknown/primary, 0 caught up, 1 up to 1 s, 2 up to 10 s, 3 up to 1 min, 4 more. */
  static int lagBucket(long lagMs) {
    if (lagMs < 0) {
      return -1;
    }
    if (lagMs == 0) {
      return 0;
    }
    if (lagMs <= 1_000) {
      return 1;
    }
    if (lagMs <= 10_000) {
      return 2;
    }
    return lagMs <= 60_000 ? 3 : 4;
  }

  static String describe(Attributes a) {
    if (!a.reachable()) {
      return "unreachable";
    }
    return (a.inRecovery() ? "standby" : "primary")
        + (a.defaultTransactionReadOnly() ? " read-only" : "")
        + " timeline=" + a.timeline() + " system=" + a.systemIdentifier()
        + (a.inRecovery() ? " replay_lag_ms=" + a.replayLagMs() : "")
        + " version=" + a.serverVersionNum();
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      // A check and its retry: a query, then a connect and two queries, each bounded by the timeout.
      thread.join(4L * timeoutSeconds() * 1000 + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeConnection();
  }
}
