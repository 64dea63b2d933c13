package io.pgconmgr.conmgr.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgconmgr.conmgr.routing.ClientRegistry;
import io.pgconmgr.conmgr.routing.InstanceState;
import io.pgconmgr.conmgr.routing.InstanceTable;
import io.pgconmgr.conmgr.routing.LinkState;
import io.pgconmgr.conmgr.routing.RoutingPolicy;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.protocol.heartbeat.HeartbeatStatus;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/** conmgr's Prometheus metrics (names in docs/conmgr.md), recorded by the proxy and the heartbeat wiring. */
public final class ConmgrMetrics {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, AtomicInteger> activeClients = new ConcurrentHashMap<>();
  private final Map<RoutedKey, Counter> routedCounters = new ConcurrentHashMap<>();
  private final List<Supplier<HeartbeatStatus>> heartbeatStatuses = new CopyOnWriteArrayList<>();
  private final Map<Refusal, Counter> refusedCounters = new EnumMap<>(Refusal.class);
  private Object kernelRelay;
  private Counter kernelRelayLosses;

  /** Why a client connection was closed at accept: the {@code reason} tag of {@code conmgr_clients_refused_total}. */
  public enum Refusal {
    MAX_CONNECTIONS,
    OPEN_FILES;

    /** The tag value: the constant's name in lower case. */
    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public ConmgrMetrics(InstanceTable table, ClientRegistry clients) {
    // Present at 0 from the start, like the link-loss counters: alerts on their increase need the series.
    for (Refusal reason : Refusal.values()) {
      refusedCounters.put(reason, Counter.builder("conmgr_clients_refused_total").tag("reason", reason.tag())
          .description("Client connections closed at accept").register(registry));
    }
    Gauge.builder("conmgr_links_up", table, t -> t.snapshot().stream().filter(s -> s.link() == LinkState.UP).count())
        .description("Instances whose heartbeat link is up").register(registry);
    Gauge.builder("conmgr_split_brain", table, t -> RoutingPolicy.primaries(t.snapshot()).splitBrain() ? 1 : 0)
        .description("1 while more than one instance claims to be primary").register(registry);
    for (InstanceState s : table.snapshot()) {
      int n = s.number();
      String tag = Integer.toString(n);
      // Present at 0 from the start: an alert on their increase needs the series before the first loss.
      linkLosses(n);
      clientsFailedOnLinkLoss(n);
      Gauge.builder("conmgr_instance_link_up", table, t -> t.get(n).link() == LinkState.UP ? 1 : 0)
          .tag("instance", tag).description("1 while the heartbeat link to the instance is up").register(registry);
      Gauge.builder("conmgr_instance_primary", table, t -> t.get(n).claimsPrimary() ? 1 : 0)
          .tag("instance", tag).description("1 while the instance is a reachable primary").register(registry);
      Gauge.builder("conmgr_instance_clients", clients, c -> c.count(n))
          .tag("instance", tag).description("Client connections bound to the instance").register(registry);
    }
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  /**
   * Publishes one heartbeat client's figures (read at scrape time). Micrometer holds the object
   * of a gauge or function counter weakly and nothing else holds {@code status}: kept here, or the
   * first GC turns these figures into NaN.
   */
  public void heartbeatStatus(int instance, Supplier<HeartbeatStatus> status) {
    heartbeatStatuses.add(status);
    String tag = Integer.toString(instance);
    Gauge.builder("conmgr_heartbeat_age_seconds", status, s -> {
      long age = s.get().lastReceivedAgeMillis();
      return age < 0 ? Double.NaN : age / 1000.0;
    }).tag("instance", tag).description("Seconds since the last frame from the instance's watchdog")
        .register(registry);
    Gauge.builder("conmgr_heartbeat_round_trip_seconds", status, s -> {
      long rtt = s.get().handshakeMillis();
      return rtt < 0 ? Double.NaN : rtt / 1000.0;
    }).tag("instance", tag).description("Hello-to-attributes round trip of the current or last heartbeat link")
        .register(registry);
    FunctionCounter.builder("conmgr_heartbeat_connect_attempts_total", status, s -> s.get().connectAttempts())
        .tag("instance", tag).description("Heartbeat connect attempts").register(registry);
    FunctionCounter.builder("conmgr_heartbeats_received_total", status, s -> s.get().heartbeatsReceived())
        .tag("instance", tag).description("Heartbeats received from the watchdog")
        .register(registry);
  }

  /**
   * Time between two frames from an instance's watchdog. Its max (Micrometer's decaying max: the
   * largest of roughly the last 2 minutes) shows how close the link came to its timeout: the
   * watchdog's interval, plus delays in the network or on a busy I/O thread of either side.
   */
  public Timer heartbeatGap(int instance) {
    return Timer.builder("conmgr_heartbeat_gap_seconds").tag("instance", Integer.toString(instance))
        .description("Time between two frames from the instance's watchdog on one connection")
        .register(registry);
  }

  public void linkLost(int instance, int clientsClosed) {
    linkLosses(instance).increment();
    clientsFailedOnLinkLoss(instance).increment(clientsClosed);
  }

  private Counter linkLosses(int instance) {
    return Counter.builder("conmgr_link_losses_total").tag("instance", Integer.toString(instance))
        .description("Heartbeat links lost").register(registry);
  }

  private Counter clientsFailedOnLinkLoss(int instance) {
    return Counter.builder("conmgr_clients_failed_on_link_loss_total").tag("instance", Integer.toString(instance))
        .description("Client connections closed or notified because their instance's link was lost")
        .register(registry);
  }

  public void routed(TargetSessionAttrs target, int instance, String mode) {
    // Once per client connection: looked up by a cheap key instead of building tags each time.
    routedCounters.computeIfAbsent(new RoutedKey(target, instance, mode), k ->
        Counter.builder("conmgr_routing_decisions_total").tag("target", target.confName())
            .tag("instance", Integer.toString(instance)).tag("mode", mode)
            .description("Clients routed, by target, chosen instance and mode (proxy, aware)").register(registry))
        .increment();
  }

  private record RoutedKey(TargetSessionAttrs target, int instance, String mode) {
  }

  public void routingFailed(TargetSessionAttrs target, String reason) {
    Counter.builder("conmgr_routing_errors_total").tag("target", target.confName()).tag("reason", reason)
        .description("Clients that got an error instead of an instance").register(registry).increment();
  }

  /** Counted on the flood path: an array lookup, no builder per refusal (the map is filled once, then only read). */
  public void refused(Refusal reason) {
    refusedCounters.get(reason).increment();
  }

  public void error(String kind) {
    Counter.builder("conmgr_errors_total").tag("kind", kind)
        .description("Unexpected errors, by kind").register(registry).increment();
  }

  /**
   * The kernel relay's figures, read at scrape time from {@code relay} (held here: Micrometer holds a
   * gauge's object weakly). Its hand-over counters are present at 0 from the start.
   */
  public <T> void kernelRelay(T relay, ToDoubleFunction<T> linksUp, ToDoubleFunction<T> relayed) {
    kernelRelay = relay;
    Gauge.builder("conmgr_kernel_relay_links_up", relay, linksUp)
        .description("Links to the kernel relay agent that are up (one per I/O thread)").register(registry);
    Gauge.builder("conmgr_kernel_relay_connections", relay, relayed)
        .description("Client connections the kernel relays now").register(registry);
    for (String result : List.of("kernel", "refused", "unavailable", "failed")) {
      kernelRelayHandOver(result, 0);
    }
    kernelRelayLosses = Counter.builder("conmgr_kernel_relay_agent_losses_total")
        .description("Times a link to the kernel relay agent was lost").register(registry);
  }

  /**
   * A proxied connection offered to the kernel relay: relayed by the kernel ("kernel"), by conmgr (the agent
   * "refused" it, or was "unavailable"), or closed because the link to the agent ended before it answered ("failed").
   */
  public void kernelRelayHandOver(String result) {
    kernelRelayHandOver(result, 1);
  }

  private void kernelRelayHandOver(String result, int count) {
    Counter.builder("conmgr_kernel_relay_handovers_total").tag("result", result)
        .description("Proxied client connections offered to the kernel relay, by result").register(registry)
        .increment(count);
  }

  public void kernelRelayLost() {
    kernelRelayLosses.increment();
  }

  /** A client connection is open (+1) or closed (-1) on a listener of this target. */
  public void clients(TargetSessionAttrs target, int delta) {
    activeClients.computeIfAbsent(target.confName(), t -> {
      AtomicInteger value = new AtomicInteger();
      Gauge.builder("conmgr_client_connections", value, AtomicInteger::get).tag("target", t)
          .description("Open client connections, by listener or requested target").register(registry);
      return value;
    }).addAndGet(delta);
  }
}
