package io.pgconmgr.operator;

import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which replica reconciles: the holder of a coordination.k8s.io Lease. Every replica serves the
 * webhook and its health endpoints; only the holder reconciles and keeps heartbeat sessions.
 *
 * @param leaseName       the Lease object's name
 * @param leaseNamespace  the operator's own namespace (the chart passes POD_NAMESPACE)
 * @param identity        this replica in the Lease's holderIdentity (the chart passes POD_NAME)
 */
public record LeaderElection(String leaseName, String leaseNamespace, String identity, Duration leaseDuration,
    Duration renewDeadline, Duration retryPeriod) {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);
  public static final String DEFAULT_LEASE_NAME = "pgconmgr-operator";

  /**
   * From PGCONMGR_LEADER_ELECTION (default false: a local run or a test needs no Lease),
   * PGCONMGR_LEADER_ELECTION_LEASE, POD_NAMESPACE and POD_NAME; null when switched off.
   */
  public static LeaderElection fromEnvironment(Map<String, String> env) {
    if (!Boolean.parseBoolean(env.getOrDefault("PGCONMGR_LEADER_ELECTION", "false"))) {
      return null;
    }
    String namespace = env.get("POD_NAMESPACE");
    if (namespace == null || namespace.isBlank()) {
      throw new IllegalArgumentException("PGCONMGR_LEADER_ELECTION=true needs POD_NAMESPACE (the namespace of the "
          + "Lease, set from the downward API field metadata.namespace)");
    }
    String identity = env.getOrDefault("POD_NAME", env.get("HOSTNAME"));
    if (identity == null || identity.isBlank()) {
      throw new IllegalArgumentException("PGCONMGR_LEADER_ELECTION=true needs POD_NAME (this replica's identity in "
          + "the Lease, set from the downward API field metadata.name)");
    }
    return new LeaderElection(env.getOrDefault("PGCONMGR_LEADER_ELECTION_LEASE", DEFAULT_LEASE_NAME), namespace,
        identity, LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
        LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE, LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE);
  }

  /**
   * The JOSDK configuration; {@code leading} follows this replica's leadership and is exported as
   * the gauge {@code pgconmgr_operator_leader} (1 on the replica that reconciles).
   *
   * @param onStopLeading runs when this replica stops holding the Lease: the operator exits there
   *                      (unless it is stopping anyway) so that two replicas never reconcile at once.
   *                      JOSDK's own exit-on-stop-leading stays off: it calls System.exit also when
   *                      Operator.stop() runs in a shutdown hook, and that deadlocks the JVM's exit.
   */
  public LeaderElectionConfiguration configuration(AtomicBoolean leading, MeterRegistry meters,
      Runnable onStopLeading) {
    if (meters != null) {
      Gauge.builder("pgconmgr_operator_leader", leading, l -> l.get() ? 1 : 0)
          .description("1 while this replica holds the operator's Lease and reconciles, else 0")
          .register(meters);
    }
    return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(leaseName)
        .withLeaseNamespace(leaseNamespace)
        .withIdentity(identity)
        .withLeaseDuration(leaseDuration)
        .withRenewDeadline(renewDeadline)
        .withRetryPeriod(retryPeriod)
        .withExitOnStopLeading(false)
        .withLeaderCallbacks(new LeaderCallbacks(
            () -> {
              leading.set(true);
              LOG.info("{} holds lease {}/{}: reconciling", identity, leaseNamespace, leaseName);
            },
            () -> {
              leading.set(false);
              onStopLeading.run();
            },
            leader -> LOG.info("lease {}/{} held by {}", leaseNamespace, leaseName, leader)))
        .build();
  }
}
