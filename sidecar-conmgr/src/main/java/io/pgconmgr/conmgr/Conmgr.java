package io.pgconmgr.conmgr;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgconmgr.conmgr.ops.ConmgrMetrics;
import io.pgconmgr.conmgr.ops.DataDirectory;
import io.pgconmgr.conmgr.ops.HttpEndpoints;
import io.pgconmgr.conmgr.ops.OpenFiles;
import io.pgconmgr.conmgr.ops.PgLevel;
import io.pgconmgr.conmgr.ops.RefusalLog;
import io.pgconmgr.conmgr.ops.StatusReport;
import io.pgconmgr.conmgr.proxy.KernelRelay;
import io.pgconmgr.conmgr.proxy.ProxyContext;
import io.pgconmgr.conmgr.proxy.ProxyServer;
import io.pgconmgr.conmgr.routing.ClientRegistry;
import io.pgconmgr.conmgr.routing.InstanceState;
import io.pgconmgr.conmgr.routing.InstanceTable;
import io.pgconmgr.conmgr.routing.LinkState;
import io.pgconmgr.conmgr.routing.Router;
import io.pgconmgr.conmgr.routing.RoutingPolicy;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.Listener;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.protocol.netty.NettyTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running conmgr: the instance table fed by one heartbeat client per instance, the router, the
 * client listeners, the HTTP endpoints and (with a directory) conmgr.pid/conmgr.status. Wired by
 * hand; {@link #start} binds everything or fails having started nothing.
 */
public final class Conmgr implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Conmgr.class);

  /** How long a new client may take to send its first packet (the postmaster's authentication_timeout). */
  static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  /**
   * Start options beyond conmgr.conf.
   *
   * @param dataDir             directory for conmgr.pid / conmgr.status, or null (embedded use, tests)
   * @param readyWithoutPrimary {@code -W}: report ready once the listeners are bound, primary or not
   * @param heartbeats          start heartbeat clients (false: the table is fed by the caller, for tests)
   * @param ioThreads           event-loop threads for clients, instances and heartbeats ({@code CONMGR_IO_THREADS})
   */
  public record Options(DataDirectory dataDir, boolean readyWithoutPrimary, boolean heartbeats, int ioThreads) {
    public Options {
      if (ioThreads < 1) {
        throw new IllegalArgumentException("ioThreads must be at least 1, got " + ioThreads);
      }
    }

    public Options(DataDirectory dataDir, boolean readyWithoutPrimary, boolean heartbeats) {
      this(dataDir, readyWithoutPrimary, heartbeats, defaultIoThreads());
    }

    public static Options embedded() {
      return new Options(null, false, true);
    }

    /**
     * One thread per four processors, at least one. A relayed packet costs far less than the
     * PostgreSQL backend and the application that produce it, so one thread keeps up with a pod's
     * clients; more threads on few cores only add cross-core wake-ups (measured in docs/BENCHMARKS.md).
     */
    public static int defaultIoThreads() {
      return Math.max(1, Runtime.getRuntime().availableProcessors() / 4);
    }
  }

  private final ConmgrConf conf;
  private final Options options;
  private final InstanceTable table;
  private final ClientRegistry clients = new ClientRegistry();
  private final Router router;
  private final ConmgrMetrics metrics;
  /** Accepts, relays and heartbeats: a client, its instance connection and their timers share one thread. */
  private final EventLoopGroup io;
  private final ExecutorService statusWriter;
  private final CountDownLatch primaryKnown = new CountDownLatch(1);
  private volatile boolean splitBrainReported;
  private volatile boolean stopping;
  private ProxyServer proxy;
  /** Hands proxied connections to the kernel relay agent; null without {@code kernel_relay_socket}. */
  private KernelRelay kernelRelay;
  private HttpEndpoints http;
  private HeartbeatLinks links;
  /** LOG lines of refused clients, at most two per window; summed up every second once a window ends. */
  private final RefusalLog refusals = new RefusalLog();
  private ScheduledFuture<?> refusalFlush;

  private Conmgr(ConmgrConf conf, Options options) {
    this.conf = conf;
    this.options = options;
    this.table = new InstanceTable(conf.instances(), Clock.systemDefaultZone());
    this.router = new Router(table, clients);
    this.metrics = new ConmgrMetrics(table, clients);
    this.io = NettyTransport.newEventLoopGroup(options.ioThreads(), new DefaultThreadFactory("conmgr-io", true));
    this.statusWriter = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "conmgr-status");
      t.setDaemon(true);
      return t;
    });
  }

  /** Binds the listeners and the HTTP port, claims the directory, starts the heartbeats. */
  public static Conmgr start(ConmgrConf conf, Options options) throws IOException, InterruptedException {
    Conmgr c = new Conmgr(conf, options);
    try {
      c.startAll();
      return c;
    } catch (IOException | InterruptedException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private void startAll() throws IOException, InterruptedException {
    if (options.dataDir() != null) {
      options.dataDir().claim(describeListeners(conf.allListeners()));
    }
    table.addListener(this::onChange);
    OpenFiles openFiles = OpenFiles.measure(conf.allListeners().size() * conf.listenAddresses().split(",").length
        + conf.instances().size());
    logOpenFiles(openFiles);
    refusalFlush = io.next().scheduleAtFixedRate(refusals::flush, 1, 1, TimeUnit.SECONDS);
    if (!conf.kernelRelaySocket().isEmpty()) {
      kernelRelay = KernelRelay.start(io, conf.kernelRelaySocket(), metrics);
    }
    ProxyContext context = new ProxyContext(router, metrics, Duration.ofMillis(conf.routeWaitTimeoutMs()),
        Duration.ofSeconds(conf.heartbeatConnectTimeoutSeconds()), STARTUP_TIMEOUT, conf.maxConnections(), openFiles,
        refusals, kernelRelay);
    proxy = new ProxyServer(io, conf.listenAddresses(), conf.allListeners(), context);
    if (conf.httpPort() > 0) {
      try {
        http = new HttpEndpoints(conf.httpPort(), () -> !stopping, this::ready, this::readiness,
            () -> StatusReport.render(table.snapshot()), metrics::scrape);
      } catch (IOException e) {
        throw new IOException("could not listen on HTTP port " + conf.httpPort() + ": " + e.getMessage(), e);
      }
    }
    log.info(PgLevel.LOG, "conmgr listening on {} ({}), HTTP on {}, {} I/O thread{}", proxy.addresses(),
        describeListeners(conf.allListeners()), conf.httpPort() > 0 ? conf.httpPort() : "off", options.ioThreads(),
        options.ioThreads() == 1 ? "" : "s");
    writeStatus();
    if (options.readyWithoutPrimary()) {
      markReady();
    }
    if (options.heartbeats()) {
      links = HeartbeatLinks.start(conf, table, metrics, io);
    }
  }

  private void logOpenFiles(OpenFiles files) {
    if (!files.known()) {
      log.info(PgLevel.LOG, "open-files limit unknown on this platform: only max_connections limits client connections");
      return;
    }
    log.info(PgLevel.LOG, "open-files limit {}: room for {} client connections ({} file descriptors each, {} kept for "
        + "the JVM, listeners, heartbeat links and HTTP)", files.limit(), files.connections(), OpenFiles.PER_CONNECTION,
        files.reserved());
    if (files.belowMaxConnections(conf.maxConnections())) {
      log.warn("max_connections = {} allows more client connections than the open-files limit ({}) can hold: "
          + "connections above {} are refused; raise the limit (ulimit -n, or the container runtime's nofile) to serve more",
          conf.maxConnections(), files.limit(), files.connections());
    }
  }

  static String describeListeners(List<Listener> listeners) {
    return listeners.stream().map(l -> l.port() + "=" + l.target().confName()).collect(Collectors.joining(","));
  }

  private void onChange(InstanceState before, InstanceState after) {
    if (before.link() == LinkState.UP && after.link() != LinkState.UP && stopping) {
      log.info(PgLevel.LOG, "heartbeat link to instance {} closed ({})", after.label(), after.reason());
    } else if (before.link() == LinkState.UP && after.link() != LinkState.UP) {
      int failed = router.failAll(after, after.reason());
      metrics.linkLost(after.number(), failed);
      log.warn("heartbeat link to instance {} lost ({}): {} client connection(s) failed", after.label(),
          after.reason(), failed);
    } else if (before.link() != LinkState.UP && after.link() == LinkState.UP) {
      log.info(PgLevel.LOG, "heartbeat link to instance {} up: {}", after.label(), after.role());
    } else if (!before.role().equals(after.role())) {
      if (after.usable()) {
        log.info(PgLevel.LOG, "instance {} is now {} (timeline {})", after.label(), after.role(),
            after.attributes().timeline());
      } else {
        log.info(PgLevel.LOG, "instance {} is now {}: its watchdog reports PostgreSQL not answering", after.label(),
            after.role());
      }
    }
    List<InstanceState> snapshot = table.snapshot();
    RoutingPolicy.PrimaryView view = RoutingPolicy.primaries(snapshot);
    if (view.splitBrain() && !splitBrainReported) {
      splitBrainReported = true;
      log.error("SPLIT BRAIN: {} instances claim to be primary: {}", view.claimants().size(),
          view.claimants().stream().map(s -> s.label() + " timeline " + s.attributes().timeline())
              .collect(Collectors.joining(", ")));
    } else if (!view.splitBrain() && splitBrainReported) {
      splitBrainReported = false;
      log.info(PgLevel.LOG, "split brain over: at most one instance claims to be primary");
    }
    for (InstanceState stale : view.stale()) {
      // A former primary still accepting writes: its clients must not keep writing there.
      int failed = router.failAll(stale, "instance is a primary on an older timeline (split brain)");
      if (failed > 0) {
        log.error("closed {} client connection(s) of instance {}: primary on older timeline {}", failed,
            stale.label(), stale.attributes().timeline());
      }
    }
    // Readiness can only begin with a change of a primary claimant (one appears, or one of a split
    // brain steps down); deciding it there keeps "ready" after that instance's "link up" in the log
    // (another instance's handler may run in between on another thread).
    if ((after.claimsPrimary() || before.claimsPrimary()) && ready()) {
      markReady();
    }
    writeStatus();
  }

  /** Ready: a primary is known (a read-write target can be routed), or started with -W. */
  public boolean ready() {
    return primaryKnown.getCount() == 0
        || !RoutingPolicy.candidates(TargetSessionAttrs.PRIMARY, table.snapshot()).isEmpty();
  }

  private String readiness() {
    List<InstanceState> primaries = RoutingPolicy.candidates(TargetSessionAttrs.PRIMARY, table.snapshot());
    if (!primaries.isEmpty()) {
      return "ready: primary is instance " + primaries.get(0).label();
    }
    if (primaryKnown.getCount() == 0) {
      return options.readyWithoutPrimary() ? "ready (-W): no primary known now: " + router.explain(TargetSessionAttrs.PRIMARY)
          : "ready: no primary known now (" + router.explain(TargetSessionAttrs.PRIMARY) + ")";
    }
    return "not ready: no primary known yet: " + router.explain(TargetSessionAttrs.PRIMARY);
  }

  private void markReady() {
    if (primaryKnown.getCount() == 0) {
      return;
    }
    primaryKnown.countDown();
    log.info(PgLevel.LOG, "conmgr is {}", readiness());
    if (options.dataDir() != null) {
      statusWriter.execute(() -> {
        if (stopping) {
          return; // "stopping" is written, or queued, already
        }
        try {
          options.dataDir().state(DataDirectory.State.READY);
        } catch (IOException e) {
          log.warn("could not write {}: {}", DataDirectory.PID, e.toString());
        }
      });
    }
  }

  private void writeStatus() {
    if (options.dataDir() == null || stopping) {
      return;
    }
    statusWriter.execute(() -> {
      try {
        options.dataDir().status(StatusReport.render(table.snapshot()));
      } catch (IOException e) {
        log.warn("could not write {}: {}", DataDirectory.STATUS, e.toString());
      }
    });
  }

  /** Waits until ready (see {@link #ready}). */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    return primaryKnown.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public InstanceTable table() {
    return table;
  }

  public ConmgrMetrics metrics() {
    return metrics;
  }

  /** Bound client addresses, default listener first (one per listener and listen address). */
  public List<InetSocketAddress> listenAddresses() {
    return proxy.addresses();
  }

  public int httpPort() {
    return http == null ? 0 : http.port();
  }

  /** Clean stop: goodbye to every watchdog, close listeners and clients, release the directory. */
  @Override
  public void close() {
    if (stopping) {
      return;
    }
    stopping = true;
    log.info(PgLevel.LOG, "conmgr stopping");
    if (options.dataDir() != null) {
      // Through the writer thread, after any queued write: a pending "ready" must not overwrite
      // "stopping", and two writers must not share conmgr.pid.tmp.
      statusWriter.execute(() -> {
        try {
          options.dataDir().state(DataDirectory.State.STOPPING);
        } catch (IOException e) {
          // The pid file goes away below anyway.
        }
      });
    }
    if (links != null) {
      links.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (kernelRelay != null) {
      kernelRelay.close();
    }
    if (refusalFlush != null) {
      refusalFlush.cancel(false);
    }
    refusals.close();
    if (http != null) {
      http.close();
    }
    io.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    statusWriter.shutdown();
    try {
      statusWriter.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (options.dataDir() != null) {
      options.dataDir().release();
    }
  }
}
