package io.pgconmgr.watchdog;

import java.net.InetAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Terminates the backends of a lost conmgr's IP on its own connection (the seed's terminator
 * process): only when no live session from that IP remains, and only backends that started
 * before the loss, since the IP may already belong to a new pod.
 */
final class Terminator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Terminator.class);
  static final String APPLICATION_NAME = "pgconmgr-watchdog-terminator";
  private static final long IDLE_WAKEUP_MS = 1000;

  /*
   * Walsenders are spared: replication has its own timeout (wal_sender_timeout) and killing it
   * only forces a reconnect and adds lag (the seed warns about exactly that). The watchdog's own
   * connections (this one, the checker) are spared too.
   */
  /*
   * A backend this role may not signal (a superuser's, when the watchdog's role is not one; another
   * role's without pg_signal_backend) is listed but not touched: pg_terminate_backend would raise
   * an error for it, fail the whole statement and leave every other backend of the IP running.
   */
  private static final String TERMINATE = """
      SELECT pid, usename, datname, application_name, backend_start,
             CASE WHEN may_signal THEN pg_terminate_backend(pid) END
        FROM (SELECT a.*,
                     CASE WHEN coalesce(r.rolsuper, false)
                       THEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                       ELSE r.oid IS NULL OR pg_has_role(r.oid, 'USAGE')
                            OR pg_has_role('pg_signal_backend', 'USAGE')
                     END AS may_signal
                FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
               WHERE a.client_addr = ?::inet
                 AND a.backend_start < ?
                 AND a.backend_type = 'client backend'
                 AND a.pid <> pg_backend_pid()
                 AND a.pid <> ?
                 AND coalesce(a.application_name, '') NOT LIKE 'pgconmgr-watchdog-%') b""";

  private final WatchdogSettings settings;
  private final WatchdogMetrics metrics;
  private final Predicate<InetAddress> hasLiveSession;
  private final IntSupplier checkerPid;
  /** Lost IPs still to handle, with the latest loss time each. */
  private final Map<InetAddress, Instant> pending = new LinkedHashMap<>();
  private final Thread thread;
  private volatile boolean running = true;
  private Connection connection;
  private long lastValidated;
  private String lastError = "";

  Terminator(WatchdogSettings settings, WatchdogMetrics metrics,
      Predicate<InetAddress> hasLiveSession, IntSupplier checkerPid) {
    this.settings = settings;
    this.metrics = metrics;
    this.hasLiveSession = hasLiveSession;
    this.checkerPid = checkerPid;
    this.thread = new Thread(this::loop, "watchdog-terminator");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Queues the backends of {@code address} that started before {@code lostAt}. */
  void peerLost(InetAddress address, Instant lostAt) {
    synchronized (pending) {
      pending.merge(address, lostAt, (a, b) -> a.isAfter(b) ? a : b);
      pending.notifyAll();
    }
  }

  private void loop() {
    while (running) {
      Map.Entry<InetAddress, Instant> job = null;
      synchronized (pending) {
        if (pending.isEmpty()) {
          try {
            pending.wait(IDLE_WAKEUP_MS);
          } catch (InterruptedException e) {
            return;
          }
        }
        var it = pending.entrySet().iterator();
        if (it.hasNext()) {
          job = it.next();
          it.remove();
        }
      }
      if (!running) {
        return;
      }
      if (job == null) {
        keepConnected();
        continue;
      }
      try {
        terminate(job.getKey(), job.getValue());
      } catch (SQLException e) {
        // The instance is down or restarting: its backends may be gone already, but a restart
        // can be quick, so try again; the start-time bound keeps new backends safe.
        String error = String.valueOf(e.getMessage());
        if (!error.equals(lastError)) {
          log.warn("terminating backends of {} failed, retrying every {} ms: {}",
              job.getKey().getHostAddress(), settings.checkAttrIntervalMs(), error);
          lastError = error;
        }
        closeConnection();
        peerLost(job.getKey(), job.getValue());
        sleepQuietly(settings.checkAttrIntervalMs());
      }
    }
  }

  /**
   * Holds the connection open while idle, like the seed's terminator process, so a full
   * max_connections cannot stop the termination that would free it.
   */
  private void keepConnected() {
    try {
      if (connection == null) {
        connect();
        lastError = "";
      } else if (System.nanoTime() - lastValidated > TimeUnit.SECONDS.toNanos(10)) {
        if (!connection.isValid(timeoutSeconds())) {
          closeConnection();
          connect();
        }
        lastValidated = System.nanoTime();
      }
    } catch (SQLException e) {
      closeConnection();
      if (running && !String.valueOf(e.getMessage()).equals(lastError)) {
        log.warn("terminator cannot connect to {} (retrying): {}",
            settings.conninfo().jdbcUrl(), e.getMessage());
        lastError = String.valueOf(e.getMessage());
      }
    }
  }

  private void connect() throws SQLException {
    connection = settings.conninfo().open(APPLICATION_NAME, timeoutSeconds());
    lastValidated = System.nanoTime();
  }

  private int timeoutSeconds() {
    return Math.max(1, (settings.checkTimeoutMs() + 999) / 1000);
  }

  private void terminate(InetAddress address, Instant lostAt) throws SQLException {
    String ip = address.getHostAddress();
    if (hasLiveSession.test(address)) {
      log.info("backends of {} kept: another heartbeat session from that address is live", ip);
      return;
    }
    if (connection == null) {
      connect();
    }
    int count = 0;
    int forbidden = 0;
    try (PreparedStatement st = connection.prepareStatement(TERMINATE)) {
      st.setString(1, ip);
      // As timestamptz: independent of the JVM's and the server's time zones.
      st.setObject(2, OffsetDateTime.ofInstant(lostAt, ZoneOffset.UTC));
      st.setInt(3, checkerPid.getAsInt());
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          if (rs.getObject(6) == null) {
            forbidden++;
            log.warn("backend pid={} user={} of lost peer {} kept: the watchdog's role {} may not"
                    + " terminate it (a superuser's backend needs a superuser watchdog, another"
                    + " role's needs pg_signal_backend)", rs.getInt(1), rs.getString(2), ip,
                settings.conninfo().user());
          } else if (rs.getBoolean(6)) {
            count++;
            log.info("terminated backend pid={} user={} database={} application_name={}"
                    + " backend_start={} of lost peer {}", rs.getInt(1), rs.getString(2),
                rs.getString(3), rs.getString(4), rs.getTimestamp(5).toInstant(), ip);
          }
        }
      }
    }
    lastError = ""; // a failure that comes back later is news again
    metrics.backendsTerminated.increment(count);
    log.info("lost peer {}: terminated {} backend(s) started before {}{}", ip, count, lostAt,
        forbidden == 0 ? "" : "; " + forbidden + " kept for lack of privilege");
  }

  private void sleepQuietly(long ms) {
    try {
      TimeUnit.MILLISECONDS.sleep(ms);
    } catch (InterruptedException e) {
      running = false;
    }
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // already broken
      }
      connection = null;
    }
  }

  @Override
  public void close() {
    running = false;
    synchronized (pending) {
      pending.notifyAll();
    }
    thread.interrupt();
    try {
      thread.join(settings.checkTimeoutMs() + 1000L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeConnection();
  }
}
