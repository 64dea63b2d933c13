package io.pgconmgr.watchdog;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** The watchdog's Prometheus meters (names documented in docs/watchdog.md). */
final class WatchdogMetrics implements AutoCloseable {
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final Counter heartbeatsSent = counter("watchdog.heartbeats.sent", "Heartbeat frames sent");
  final Counter heartbeatsReceived =
      counter("watchdog.heartbeats.received", "Heartbeat frames received");
  final Counter attributeChanges =
      counter("watchdog.attribute.changes", "Attribute changes pushed to the peers");
  final Counter backendsTerminated = counter("watchdog.backends.terminated",
      "Backends terminated because their client's conmgr was lost");
  final Counter malformedFrames = counter("watchdog.frames.rejected",
      "Connections closed for a malformed, oversize or unexpected frame");
  /** One series for all peers (thousands of sessions): its max says how late the latest peer got. */
  final Timer heartbeatGap = Timer.builder("watchdog.heartbeat.gap")
      .description("Time between two frames from a peer on one session (its Hello, then heartbeats)")
      .register(registry);
  final Counter checkRetries = counter("watchdog.attribute.check.retries",
      "Attribute checks that failed on the open connection and were run again on a new one");
  final Timer checkLatency = Timer.builder("watchdog.attribute.check")
      .description("Duration of one attribute check (failed checks and retries included)")
      .publishPercentileHistogram(false)
      .register(registry);

  WatchdogMetrics() {
    // Process and JVM figures: the per-session footprint is read from these.
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  /** pgx_stat_watchdog as a metric: sessions per conmgr address (rows replaced on change). */
  private final MultiGauge peerSessions = MultiGauge.builder("watchdog.peer.sessions")
      .description("Established heartbeat sessions per conmgr address (pgx_stat_watchdog)")
      .register(registry);

  void peerSessions(List<PeerSession> sessions) {
    Map<String, Long> perAddress = sessions.stream().collect(Collectors.groupingBy(
        s -> s.address().getHostAddress(), TreeMap::new, Collectors.counting()));
    peerSessions.register(perAddress.entrySet().stream()
        .map(e -> MultiGauge.Row.of(Tags.of("conmgr_addr", e.getKey()), e.getValue()))
        .toList(), true);
  }

  private Counter counter(String name, String help) {
    return Counter.builder(name).description(help).register(registry);
  }

  /** Peers lost, by reason: timeout, goodbye, closed, restart. */
  Counter lostPeers(String reason) {
    return Counter.builder("watchdog.peers.lost").description("Heartbeat peers declared lost")
        .tag("reason", reason).register(registry);
  }

  /** Sessions refused, by reason: limit, version, timing, hello_timeout. */
  Counter refusedSessions(String reason) {
    return Counter.builder("watchdog.sessions.refused").description("Heartbeat sessions refused")
        .tag("reason", reason).register(registry);
  }

  void gauge(String name, String help, Supplier<Number> value) {
    Gauge.builder(name, value).description(help).register(registry);
  }

  String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    gcMetrics.close();
    registry.close();
  }
}
