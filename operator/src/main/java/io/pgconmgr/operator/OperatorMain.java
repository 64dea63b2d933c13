package io.pgconmgr.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.RuntimeInfo;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgconmgr.operator.model.SidecarImages;
import io.pgconmgr.operator.status.HeartbeatObserver;
import io.pgconmgr.operator.webhook.AdmissionServer;
import io.pgconmgr.operator.webhook.InstanceSetCache;
import io.pgconmgr.operator.webhook.PemKeyManager;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the operator: the InstanceSet controller, the admission webhook and the health/metrics
 * endpoint, wired by hand from environment variables (docs/operator.md lists them).
 */
public final class OperatorMain {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorMain.class);

  /** The operator's settings, read from the environment. */
  record Settings(Set<String> namespaces, boolean serverSideApply, int httpPort, boolean webhookEnabled,
      int webhookPort, Path webhookCert, Path webhookKey, SidecarImages sidecarImages, LeaderElection leaderElection) {

    static Settings fromEnvironment(Map<String, String> env) {
      return new Settings(
          Arrays.stream(env.getOrDefault("PGCONMGR_NAMESPACES", "").split(","))
              .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet()),
          Boolean.parseBoolean(env.getOrDefault("PGCONMGR_SERVER_SIDE_APPLY", "true")),
          Integer.parseInt(env.getOrDefault("PGCONMGR_HTTP_PORT", "8080")),
          Boolean.parseBoolean(env.getOrDefault("PGCONMGR_WEBHOOK_ENABLED", "true")),
          Integer.parseInt(env.getOrDefault("PGCONMGR_WEBHOOK_PORT", "8443")),
          Path.of(env.getOrDefault("PGCONMGR_WEBHOOK_CERT", "/etc/pgconmgr/webhook/tls.crt")),
          Path.of(env.getOrDefault("PGCONMGR_WEBHOOK_KEY", "/etc/pgconmgr/webhook/tls.key")),
          SidecarImages.fromEnvironment(env),
          LeaderElection.fromEnvironment(env));
    }
  }

  private OperatorMain() {
  }

  public static void main(String[] args) throws Exception {
    Settings settings = Settings.fromEnvironment(System.getenv());
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(meters);
    new JvmGcMetrics().bindTo(meters);
    new JvmThreadMetrics().bindTo(meters);
    new ProcessorMetrics().bindTo(meters);
    KubernetesClient client = new KubernetesClientBuilder().build();

    AtomicBoolean stopping = new AtomicBoolean();
    // Heartbeat sessions open only when the reconciler tracks a set, so a standby replica keeps none.
    ControllerWiring.Built operator = new ControllerWiring(client, settings.serverSideApply(), settings.namespaces(),
        changed -> new HeartbeatObserver(changed, meters), MicrometerMetrics.withoutPerResourceMetrics(meters),
        settings.leaderElection() == null ? null : settings.leaderElection().configuration(new AtomicBoolean(), meters,
            () -> {
              if (!stopping.get()) {
                // Another replica may hold the Lease already: stop reconciling now, Kubernetes restarts us.
                // Exit from a thread of its own: this callback holds the elector's lock, which the
                // shutdown hook's Operator.stop() needs.
                LOG.error("lost the lease {}: exiting", settings.leaderElection().leaseName());
                new Thread(() -> System.exit(1), "exit-on-lost-lease").start();
              }
            }))
        .build();

    InstanceSetCache sets = null;
    AdmissionServer webhook = null;
    if (settings.webhookEnabled()) {
      // Its own informer, not the controller's: it serves on every replica, leader or not.
      // One namespace, or all: the webhook must see every InstanceSet a pod may refer to.
      sets = InstanceSetCache.start(client, settings.namespaces().size() == 1 ? settings.namespaces().iterator().next() : null);
      webhook = new AdmissionServer(new InetSocketAddress(settings.webhookPort()),
          PemKeyManager.serverContext(settings.webhookCert(), settings.webhookKey()), sets::inNamespace,
          settings.sidecarImages(), new EventRecorder(client, "pgconmgr-webhook"), meters).start();
    }
    operator.start();

    RuntimeInfo runtime = operator.operator().getRuntimeInfo();
    InstanceSetCache webhookSets = sets;
    var health = new HealthAndMetricsServer(new InetSocketAddress(settings.httpPort()), meters,
        () -> runtime.isStarted() ? null : "operator not started", () -> readiness(runtime, webhookSets)).start();
    LOG.info("pgconmgr operator running: health and metrics on :{}, webhook {}, namespaces {}, default sidecar "
            + "images {} and {}, {}", settings.httpPort(),
        settings.webhookEnabled() ? "on :" + settings.webhookPort() : "disabled",
        settings.namespaces().isEmpty() ? "all" : settings.namespaces(), settings.sidecarImages().conmgr(),
        settings.sidecarImages().watchdog(), settings.leaderElection() == null ? "reconciling without leader election"
            : "reconciling while holding lease " + settings.leaderElection().leaseNamespace() + "/"
            + settings.leaderElection().leaseName() + " as " + settings.leaderElection().identity());

    CountDownLatch stopped = new CountDownLatch(1);
    AdmissionServer webhookServer = webhook;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping.set(true);
      LOG.info("stopping");
      health.close();
      if (webhookServer != null) {
        webhookServer.close();
      }
      if (webhookSets != null) {
        webhookSets.close();
      }
      operator.close();
      client.close();
      stopped.countDown();
    }, "shutdown"));
    stopped.await();
  }

  /**
   * Null when ready, else why not. Leadership plays no part: a standby replica must stay behind the
   * webhook Service, and its informers run (and must be healthy) whether it reconciles or not.
   */
  static String readiness(RuntimeInfo runtime, InstanceSetCache webhookSets) {
    if (!runtime.isStarted()) {
      return "operator not started";
    }
    if (!runtime.allEventSourcesAreHealthy()) {
      return "unhealthy event sources: " + runtime.unhealthyEventSources().keySet();
    }
    return webhookSets == null || webhookSets.isWatching() ? null : "webhook's InstanceSet informer not watching";
  }
}
