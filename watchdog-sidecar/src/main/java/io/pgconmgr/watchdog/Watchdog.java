package io.pgconmgr.watchdog;

import io.netty.handler.ssl.SslContext;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running watchdog: heartbeat server, attribute checker, terminator, session files and HTTP
 * endpoints, wired by hand. {@code bin/watchdog} runs one; tests embed one through
 * {@link #start(WatchdogSettings)} and {@link #close()}.
 */
public final class Watchdog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Watchdog.class);
  /** Session changes are written at most this often (1,000 peers reconnecting = a few writes). */
  private static final long FILE_WRITE_DELAY_MS = 50;

  private final WatchdogSettings settings;
  private final WatchdogMetrics metrics = new WatchdogMetrics();
  private final SessionRegistry registry;
  private final AttributeChecker checker;
  private final Terminator terminator;
  private final HeartbeatServer server;
  private final ScheduledExecutorService scheduler;
  /** Peers of the previous run that have not reconnected yet, with their timeout. */
  private final Map<InetAddress, PeerSession> awaited = new ConcurrentHashMap<>();
  private final AtomicBoolean writeScheduled = new AtomicBoolean();
  private volatile boolean closing;
  private InetSocketAddress heartbeatAddress;
  private HttpEndpoints http;

  private Watchdog(WatchdogSettings settings, SslContext sslContext) {
    this.settings = settings;
    this.registry = new SessionRegistry(settings.maxHeartbeatConnections());
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "watchdog-files");
      t.setDaemon(true);
      return t;
    });
    this.checker = new AttributeChecker(settings, metrics, registry::broadcast, max -> {
      if (settings.maxHeartbeatConnections() == WatchdogSettings.MAX_FROM_INSTANCE
          && registry.limit() != max) {
        log.info("max_heartbeat_connections follows the instance's max_connections: {}", max);
        registry.setLimit(max);
      }
    });
    this.terminator = new Terminator(settings, metrics, registry::hasLiveSession,
        checker::backendPid);
    this.server = new HeartbeatServer(registry, metrics, checker::current, sslContext);
  }

  /**
   * Starts a watchdog: one attribute check first (so the first peers get real attributes and
   * the session limit is known), then the terminator, the heartbeat and HTTP servers.
   *
   * @throws IOException when a port cannot be bound or the state file cannot be read; nothing
   *                     keeps running then
   */
  public static Watchdog start(WatchdogSettings settings) throws IOException {
    // Bad TLS files fail here, before anything runs.
    SslContext ssl = settings.tls() ? HeartbeatServer.serverContext(settings) : null;
    Watchdog w = new Watchdog(settings, ssl);
    try {
      w.startAll();
      return w;
    } catch (IOException | RuntimeException e) {
      w.close();
      throw e;
    }
  }

  private void startAll() throws IOException {
    List<PeerSession> remembered = settings.stateFile() == null ? List.of()
        : SessionFiles.readState(settings.stateFile());
    metrics.gauge("watchdog.sessions", "Established heartbeat sessions", registry::size);
    metrics.gauge("watchdog.connections", "Open heartbeat connections (sessions and pending)",
        registry::connections);
    metrics.gauge("watchdog.max.heartbeat.connections",
        "Session limit in force (-1 until max_connections is known)", registry::limit);
    metrics.gauge("watchdog.instance.reachable", "1 when the last check reached PostgreSQL",
        () -> checker.current().reachable() ? 1 : 0);
    metrics.gauge("watchdog.peers.awaited",
        "Peers remembered from the previous run that have not reconnected yet", awaited::size);
    registry.onChange(this::scheduleFileWrite);
    registry.onEstablished(p -> {
      if (awaited.remove(p.address()) != null) {
        log.info("remembered peer {} is back", p.address().getHostAddress());
      }
    });
    registry.onLoss((peer, reason, at) -> {
      if (!closing) {
        metrics.lostPeers(reason.tag()).increment();
        terminator.peerLost(peer.address(), at);
      }
    });

    checker.start();
    terminator.start();
    InetSocketAddress bindTo = "*".equals(settings.listenAddress())
        ? new InetSocketAddress(settings.port())
        : new InetSocketAddress(settings.listenAddress(), settings.port());
    try {
      heartbeatAddress = server.bind(bindTo);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while binding " + hostPort(bindTo), e);
    } catch (Exception e) {
      // Netty rethrows the bind failure unchecked (e.g. a Errors.NativeIoException).
      throw new IOException("cannot listen for heartbeats on " + hostPort(bindTo) + ": "
          + e.getMessage(), e);
    }
    InetSocketAddress httpBind = new InetSocketAddress(bindTo.getAddress(), settings.httpPort());
    try {
      http = new HttpEndpoints(httpBind, metrics, checker::current, registry::sessions);
    } catch (IOException e) {
      throw new IOException("cannot listen for HTTP on " + hostPort(httpBind) + ": "
          + e.getMessage(), e);
    }
    rememberPeers(remembered);
    scheduleFileWrite();
    if (settings.stateFile() == null) {
      log.warn("watchdog.state_file is not set: after a restart this watchdog will not know its"
          + " peers, and backends of a conmgr lost meanwhile will not be terminated");
    }
    log.info("watchdog listening for heartbeats on {}, HTTP on {}; instance {} ({}),"
            + " check every {} ms", hostPort(heartbeatAddress)
            + (settings.tls() ? " (mutual TLS)" : ""), hostPort(http.address()),
        settings.conninfo().jdbcUrl(), AttributeChecker.describe(checker.current()),
        settings.checkAttrIntervalMs());
  }

  /** {@code 127.0.0.1:27545}, {@code [::1]:27545}, {@code *:27545} for the wildcard. */
  static String hostPort(InetSocketAddress a) {
    if (a.getAddress() == null || a.getAddress().isAnyLocalAddress()) {
      return "*:" + a.getPort();
    }
    String host = a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  /** Peers of the previous run get their own timeout to come back; then they count as lost. */
  private void rememberPeers(List<PeerSession> remembered) {
    for (PeerSession p : remembered) {
      if (registry.hasLiveSession(p.address())) {
        continue;
      }
      awaited.merge(p.address(), p,
          (a, b) -> a.heartbeatTimeoutMs() >= b.heartbeatTimeoutMs() ? a : b);
    }
    awaited.values().forEach(p -> {
      log.info("remembering peer {} from the previous run; lost unless it reconnects within {} ms",
          p.address().getHostAddress(), p.heartbeatTimeoutMs());
      scheduler.schedule(() -> {
        if (!closing && awaited.remove(p.address(), p)) {
          log.warn("remembered peer {} did not reconnect within {} ms: lost",
              p.address().getHostAddress(), p.heartbeatTimeoutMs());
          metrics.lostPeers(SessionRegistry.LossReason.RESTART.tag()).increment();
          terminator.peerLost(p.address(), Instant.now());
          scheduleFileWrite();
        }
      }, p.heartbeatTimeoutMs(), TimeUnit.MILLISECONDS);
    });
  }

  private void scheduleFileWrite() {
    if (closing || writeScheduled.getAndSet(true)) {
      return;
    }
    scheduler.schedule(() -> {
      writeScheduled.set(false);
      writeFiles();
    }, FILE_WRITE_DELAY_MS, TimeUnit.MILLISECONDS);
  }

  private void writeFiles() {
    // The files keep the last sessions when we stop: a restarted watchdog needs them.
    if (closing) {
      return;
    }
    List<PeerSession> sessions = registry.sessions();
    metrics.peerSessions(sessions);
    if (settings.statFile() != null) {
      write(settings.statFile(), SessionFiles.statCsv(sessions));
    }
    if (settings.stateFile() != null) {
      List<PeerSession> known = new ArrayList<>(sessions);
      known.addAll(awaited.values());
      write(settings.stateFile(), SessionFiles.state(known));
    }
  }

  private static void write(Path file, String content) {
    try {
      SessionFiles.writeAtomically(file, content);
    } catch (IOException e) {
      log.error("cannot write {}: {}", file, e.toString());
    }
  }

  public WatchdogSettings settings() {
    return settings;
  }

  /** Where conmgrs connect (the bound port, also when settings asked for 0). */
  public InetSocketAddress heartbeatAddress() {
    return heartbeatAddress;
  }

  public int port() {
    return heartbeatAddress.getPort();
  }

  public int httpPort() {
    return http.address().getPort();
  }

  /** Attributes of the last check. */
  public Attributes attributes() {
    return checker.current();
  }

  /** Established sessions: the rows of pgx_stat_watchdog. */
  public List<PeerSession> sessions() {
    return registry.sessions();
  }

  /** Backends terminated since start. */
  public long terminatedBackends() {
    return (long) metrics.backendsTerminated.count();
  }

  /** The Prometheus text of /metrics. */
  public String scrapeMetrics() {
    return metrics.scrape();
  }

  /**
   * Stops everything. Sessions end with a Goodbye but without counting as lost (nothing is
   * terminated); pgx_stat_watchdog becomes empty while the state file keeps them, so a
   * restarted watchdog still knows its peers.
   */
  @Override
  public synchronized void close() {
    if (closing) {
      return; // stopped already (a second close, e.g. a shutdown hook after main's own)
    }
    closing = true;
    if (http != null) {
      http.close();
    }
    server.stopAccepting(); // else a conmgr connecting now would miss the goodbyes below
    registry.shutdown("watchdog shutting down");
    server.close();
    // A write already running would put the sessions back after the empty file below.
    scheduler.shutdownNow();
    try {
      if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
        log.warn("a session file write did not finish within 5 s of the stop");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (settings.statFile() != null && heartbeatAddress != null) {
      // No conmgr is connected to a stopped watchdog; the state file keeps them for the restart.
      write(settings.statFile(), SessionFiles.statCsv(List.of()));
    }
    terminator.close();
    checker.close();
    metrics.close();
    log.info("watchdog stopped");
  }
}
