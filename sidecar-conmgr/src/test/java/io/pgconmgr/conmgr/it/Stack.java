package io.pgconmgr.conmgr.it;

import io.pgconmgr.conmgr.Conmgr;
import io.pgconmgr.conmgr.TestConf;
import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.Listener;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The whole thing on one machine: a PostgreSQL cluster from the test kit, one real watchdog
 * process per instance, one conmgr (in this JVM) with real heartbeats. Listener 0 is read-write,
 * then one listener per extra target. Heartbeat interval 1 s, timeout 3 s; attribute checks 200 ms.
 */
public final class Stack implements AutoCloseable {

  public static final int CHECK_ATTR_INTERVAL_MS = 200;

  public final PgCluster cluster;
  public final List<WatchdogProcess> watchdogs;
  public final Conmgr conmgr;
  public final ConmgrConf conf;
  private final Path dir;

  private Stack(PgCluster cluster, List<WatchdogProcess> watchdogs, Conmgr conmgr, ConmgrConf conf, Path dir) {
    this.cluster = cluster;
    this.watchdogs = watchdogs;
    this.conmgr = conmgr;
    this.conf = conf;
    this.dir = dir;
  }

  /** Starts watchdogs and conmgr for {@code cluster} (owned by the stack from now on). */
  public static Stack start(PgCluster cluster, List<TargetSessionAttrs> extraListeners, int routeWaitMs,
      int maxConnections) throws Exception {
    Path dir = Files.createTempDirectory("conmgr-it-");
    List<WatchdogProcess> watchdogs = new ArrayList<>();
    try {
      watchdogs.addAll(startWatchdogs(cluster, dir));
      List<BackendInstance> instances = instances(cluster, watchdogs);
      List<Listener> listeners = extraListeners.stream().map(t -> new Listener(TestConf.freePort(), t)).toList();
      ConmgrConf base = TestConf.conf(instances, listeners, routeWaitMs, maxConnections);
      ConmgrConf conf = new ConmgrConf(base.port(), base.targetSessionAttrs(), base.listeners(), base.listenAddresses(),
          base.instances(), 1, 3, 1, 2, Set.of(ConmgrConf.LogDestination.STDERR), ConmgrConf.SyslogFacility.LOCAL0,
          "conmgr", ConmgrConf.LogLevel.LOG, maxConnections, TestConf.freePort(), routeWaitMs);
      Conmgr conmgr = Conmgr.start(conf, Conmgr.Options.embedded());
      return new Stack(cluster, watchdogs, conmgr, conf, dir);
    } catch (Exception | Error e) {
      watchdogs.forEach(WatchdogProcess::close);
      cluster.close();
      throw e;
    }
  }

  /** One watchdog process per cluster member, in {@code cluster.instances()} order. */
  public static List<WatchdogProcess> startWatchdogs(PgCluster cluster, Path dir) throws IOException {
    List<WatchdogProcess> watchdogs = new ArrayList<>();
    try {
      for (PgInstance pg : cluster.instances()) {
        watchdogs.add(WatchdogProcess.start(dir, "watchdog" + watchdogs.size(), pg.host(), pg.port(),
            CHECK_ATTR_INTERVAL_MS, pg.namespace().orElse(null)));
      }
      return watchdogs;
    } catch (IOException | RuntimeException e) {
      watchdogs.forEach(WatchdogProcess::close);
      throw e;
    }
  }

  /** conmgr.conf instances for the members and their watchdogs: instance i = member i. */
  public static List<BackendInstance> instances(PgCluster cluster, List<WatchdogProcess> watchdogs) {
    List<BackendInstance> instances = new ArrayList<>();
    for (int i = 0; i < watchdogs.size(); i++) {
      PgInstance pg = cluster.instances().get(i);
      instances.add(new BackendInstance(i, null, pg.host(), pg.port(), watchdogs.get(i).port()));
    }
    return instances;
  }

  /** Waits until every instance's heartbeat link is up and a primary is known. */
  public Stack awaitHealthy(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (conmgr.table().snapshot().stream().allMatch(s -> s.usable()) && conmgr.ready()) {
        return this;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("not healthy within " + timeout + ":\n"
        + io.pgconmgr.conmgr.ops.StatusReport.render(conmgr.table().snapshot()) + "\nwatchdog logs:\n"
        + watchdogs.stream().map(WatchdogProcess::log).reduce("", String::concat));
  }

  public InetSocketAddress listener(int index) {
    return conmgr.listenAddresses().get(index);
  }

  public String jdbcUrl(int listener, String params) {
    InetSocketAddress a = listener(listener);
    return "jdbc:postgresql://" + a.getAddress().getHostAddress() + ":" + a.getPort() + "/postgres?user=postgres"
        + (params.isEmpty() ? "" : "&" + params);
  }

  public String status() {
    return io.pgconmgr.conmgr.ops.StatusReport.render(conmgr.table().snapshot());
  }

  @Override
  public void close() {
    try {
      conmgr.close();
    } finally {
      watchdogs.forEach(WatchdogProcess::close);
      cluster.close();
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // temp dir; leave it
      }
    }
  }
}
