package io.pgconmgr.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.InstanceSpec;
import io.pgconmgr.operator.model.InstanceSetResources;
import io.pgconmgr.operator.testsupport.RecordingObserver;
import io.pgconmgr.operator.webhook.InstanceSetCache;
import io.pgconmgr.protocol.conf.ConmgrConfParser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two operators with leader election on one Fabric8 CRUD mock API server: the Lease lives in the
 * mock, only its holder reconciles, the standby stays ready and takes over when the holder goes.
 * The mock has no RBAC, so JOSDK's SelfSubjectRulesReview lease-permission check is answered by a stub.
 */
@EnableKubernetesMockClient(crud = true)
class LeaderElectionTest {
  private static final String NS = "pgconmgr-system";
  private static final String SETS_NS = "shop";
  private static final Duration LEASE = Duration.ofSeconds(4);
  private static final Duration WAIT = Duration.ofSeconds(30);
  KubernetesMockServer server;
  KubernetesClient client;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  /** One operator replica: its wiring, its observer and whether it believes it leads. */
  private record Replica(String name, ControllerWiring.Built operator, AtomicReference<RecordingObserver> observer,
      AtomicBoolean leading, AtomicInteger stoppedLeading, KubernetesClient client) {
    int trackCalls() {
      return observer.get().trackCalls.get();
    }
  }

  @BeforeEach
  void grantLeasePermissions() {
    server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(201, new SelfSubjectRulesReviewBuilder().withNewStatus().withIncomplete(false)
            .withResourceRules(new ResourceRuleBuilder().withApiGroups("coordination.k8s.io").withResources("leases")
                .withVerbs("get", "create", "update").build())
            .endStatus().build())
        .always();
  }

  @AfterEach
  void closeAll() throws Exception {
    java.util.Collections.reverse(toClose);
    for (AutoCloseable c : toClose) {
      try {
        c.close();
      } catch (Exception e) {
        // Best effort: a replica whose client was cut may fail to stop cleanly.
      }
    }
  }

  @Test
  void onlyTheLeaseHolderReconcilesAndTheStandbyTakesOverWhenItStops() {
    Replica a = start("operator-a", client);
    await().atMost(WAIT).until(() -> "operator-a".equals(holder()));
    Replica b = start("operator-b", client);
    InstanceSetCache webhookSetsOnB = InstanceSetCache.start(b.client(), null);
    toClose.add(webhookSetsOnB);

    // Healthy: A reconciles; B watches (ready, webhook cache filled) but does not reconcile.
    client.resource(instanceSet()).create();
    await().atMost(WAIT).until(() -> conmgrConf() != null && a.trackCalls() > 0);
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(OperatorMain.readiness(b.operator().operator().getRuntimeInfo(), webhookSetsOnB)).isNull();
      assertThat(webhookSetsOnB.inNamespace(SETS_NS)).extracting(s -> s.getMetadata().getName())
          .containsExactly("orders-db");
    });
    assertThat(OperatorMain.readiness(a.operator().operator().getRuntimeInfo(), null)).isNull();
    assertThat(a.leading()).isTrue();
    assertThat(b.leading()).isFalse();
    assertThat(b.trackCalls()).as("reconciles on the standby").isZero();
    assertThat(holder()).isEqualTo("operator-a");

    // Fault: the leader stops (a rolling update or a drained node); it releases the Lease.
    long stoppedAt = System.nanoTime();
    a.operator().close();
    await().atMost(LEASE.plus(WAIT)).until(() -> "operator-b".equals(holder()) && b.leading().get());
    System.out.printf("standby took over %d ms after the leader stopped%n", (System.nanoTime() - stoppedAt) / 1_000_000);

    // The new leader reconciles: it tracks the set and follows a change.
    await().atMost(WAIT).until(() -> b.trackCalls() > 0);
    InstanceSet edited = client.resources(InstanceSet.class).inNamespace(SETS_NS).withName("orders-db").get();
    edited.getSpec().getConmgr().setHeartbeatInterval(3);
    client.resource(edited).update();
    await().atMost(WAIT).until(() -> ConmgrConfParser.parse(conmgrConf(), "conmgr.conf").heartbeatIntervalSeconds() == 3);
  }

  @Test
  void standbyTakesOverWhenTheLeaderVanishesWithoutReleasingTheLease() {
    KubernetesClient clientOfA = server.createClient();
    Replica a = start("operator-a", clientOfA);
    await().atMost(WAIT).until(() -> "operator-a".equals(holder()));
    Replica b = start("operator-b", client);
    client.resource(instanceSet()).create();
    await().atMost(WAIT).until(() -> conmgrConf() != null && a.trackCalls() > 0);
    assertThat(b.trackCalls()).as("reconciles on the standby").isZero();
    assertThat(b.leading()).isFalse();

    // Fault: A loses the API server (node lost, partition) and can neither renew nor release.
    long cutAt = System.nanoTime();
    clientOfA.close();
    await().atMost(LEASE.plus(WAIT)).until(() -> "operator-b".equals(holder()) && b.leading().get());
    System.out.printf("standby took over %d ms after the leader lost the API server (lease %d s)%n",
        (System.nanoTime() - cutAt) / 1_000_000, LEASE.toSeconds());
    assertThat(a.leading()).as("the cut-off leader noticed it lost the lease").isFalse();
    assertThat(a.stoppedLeading()).as("told to stop (OperatorMain exits there)").hasPositiveValue();
    assertThat(b.stoppedLeading()).hasValue(0);
    await().atMost(WAIT).until(() -> b.trackCalls() > 0);
  }

  @Test
  void leaderElectionIsOffUnlessEnabledAndThenNeedsTheDownwardApiVariables() {
    assertThat(LeaderElection.fromEnvironment(Map.of())).isNull();
    assertThat(LeaderElection.fromEnvironment(Map.of("PGCONMGR_LEADER_ELECTION", "false"))).isNull();
    assertThatThrownBy(() -> LeaderElection.fromEnvironment(Map.of("PGCONMGR_LEADER_ELECTION", "true")))
        .hasMessageContaining("POD_NAMESPACE");
    LeaderElection e = LeaderElection.fromEnvironment(Map.of("PGCONMGR_LEADER_ELECTION", "true",
        "POD_NAMESPACE", NS, "POD_NAME", "pgconmgr-operator-7d9f-x2x4q"));
    assertThat(e.leaseName()).isEqualTo("pgconmgr-operator");
    assertThat(e.leaseNamespace()).isEqualTo(NS);
    assertThat(e.identity()).isEqualTo("pgconmgr-operator-7d9f-x2x4q");
    assertThat(LeaderElection.fromEnvironment(Map.of("PGCONMGR_LEADER_ELECTION", "true", "POD_NAMESPACE", NS,
        "POD_NAME", "p", "PGCONMGR_LEADER_ELECTION_LEASE", "other")).leaseName()).isEqualTo("other");
  }

  @Test
  void leaderGaugeFollowsLeadership() {
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AtomicBoolean leading = new AtomicBoolean();
    new LeaderElection("l", NS, "me", LEASE, LEASE, LEASE).configuration(leading, meters, () -> { });
    assertThat(meters.scrape()).contains("pgconmgr_operator_leader 0.0");
    leading.set(true);
    assertThat(meters.scrape()).contains("pgconmgr_operator_leader 1.0");
  }

  private Replica start(String name, KubernetesClient replicaClient) {
    AtomicReference<RecordingObserver> observer = new AtomicReference<>();
    AtomicBoolean leading = new AtomicBoolean();
    AtomicInteger stoppedLeading = new AtomicInteger();
    var election = new LeaderElection(LeaderElection.DEFAULT_LEASE_NAME, NS, name, LEASE, Duration.ofSeconds(3),
        Duration.ofMillis(500));
    ControllerWiring.Built operator = new ControllerWiring(replicaClient, false, Set.of(), changed -> {
      RecordingObserver o = new RecordingObserver(changed);
      observer.set(o);
      return o;
    }, null, election.configuration(leading, null, stoppedLeading::incrementAndGet)).build();
    toClose.add(operator);
    operator.start();
    return new Replica(name, operator, observer, leading, stoppedLeading, replicaClient);
  }

  private String holder() {
    Lease lease = client.resources(Lease.class).inNamespace(NS).withName(LeaderElection.DEFAULT_LEASE_NAME).get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }

  private String conmgrConf() {
    ConfigMap cm = client.configMaps().inNamespace(SETS_NS)
        .withName(InstanceSetResources.conmgrConfigMapName("orders-db")).get();
    return cm == null ? null : cm.getData().get(InstanceSetResources.CONMGR_CONF_KEY);
  }

  private static InstanceSet instanceSet() {
    InstanceSet set = new InstanceSet();
    set.getMetadata().setName("orders-db");
    set.getMetadata().setNamespace(SETS_NS);
    InstanceSetSpec spec = new InstanceSetSpec();
    spec.getInstances().add(new InstanceSpec(null, "198.18.0.10", 5432, 27545));
    set.setSpec(spec);
    return set;
  }
}
