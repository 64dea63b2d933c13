package io.pgconmgr.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.pgconmgr.operator.ControllerWiring;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.InstanceSpec;
import io.pgconmgr.operator.crd.InstanceStatus;
import io.pgconmgr.operator.crd.ListenerSpec;
import io.pgconmgr.operator.crd.SessionTarget;
import io.pgconmgr.operator.crd.PostgresSelector;
import io.pgconmgr.operator.model.InstanceSetResources;
import io.pgconmgr.operator.model.SetInstance;
import io.pgconmgr.operator.testsupport.RecordingObserver;
import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.conf.ConfFile;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConfParser;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real JOSDK operator against Fabric8's CRUD mock API server: the ConfigMaps follow the InstanceSet
 * and its PostgreSQL pods; status and cleanup behave. No watchdog answers here, so every link is down.
 */
@EnableKubernetesMockClient(crud = true)
class InstanceSetReconcilerTest {
  private static final String NS = "shop";
  private static final Duration WAIT = Duration.ofSeconds(30);
  KubernetesClient client;
  private ControllerWiring.Built operator;
  private final AtomicReference<RecordingObserver> observer = new AtomicReference<>();

  @BeforeEach
  void startOperator() {
    operator = new ControllerWiring(client, false, Set.of(), changed -> {
      RecordingObserver o = new RecordingObserver(changed);
      observer.set(o);
      return o;
    }, null).build().start();
  }

  @AfterEach
  void stopOperator() {
    operator.close();
  }

  @Test
  void configMapsFollowTheInstanceSetThroughCreateUpdateAndDelete() throws Exception {
    client.resource(instanceSet()).create();

    ConmgrConf conf = awaitConmgrConf(c -> c.instances().size() == 2);
    assertThat(conf.instances()).extracting(BackendInstance::number, BackendInstance::host, BackendInstance::hostaddr,
            BackendInstance::port, BackendInstance::watchdogPort)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0, "pg-archive.example.internal", null, 5432, 27545),
            org.assertj.core.groups.Tuple.tuple(1, null, "198.18.0.10", 5433, 27555));
    assertThat(conf.heartbeatIntervalSeconds()).isEqualTo(10);
    ConfigMap watchdog = awaitConfigMap(InstanceSetResources.watchdogConfigMapName("orders-db"));
    Map<String, String> settings = new java.util.HashMap<>();
    ConfFile.parse(watchdog.getData().get(InstanceSetResources.WATCHDOG_CONF_KEY), "watchdog.conf").settings()
        .forEach((k, v) -> settings.put(k, v.value()));
    assertThat(settings).containsEntry("watchdog.port", "27545").containsEntry("watchdog.check_attr_interval", "1000");
    ConfigMap conmgr = awaitConfigMap(InstanceSetResources.conmgrConfigMapName("orders-db"));
    InstanceSet created = client.resources(InstanceSet.class).inNamespace(NS).withName("orders-db").get();
    for (ConfigMap cm : new ConfigMap[] {conmgr, watchdog}) {
      assertThat(cm.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
        assertThat(o.getKind()).isEqualTo("InstanceSet");
        assertThat(o.getUid()).isEqualTo(created.getMetadata().getUid());
      });
      assertThat(cm.getMetadata().getLabels()).containsEntry(InstanceSetResources.INSTANCESET_LABEL, "orders-db");
    }

    InstanceSet edited = client.resources(InstanceSet.class).inNamespace(NS).withName("orders-db").get();
    edited.getSpec().getConmgr().setHeartbeatInterval(3);
    edited.getSpec().getConmgr().setHeartbeatTimeout(7);
    edited.getSpec().getWatchdog().setCheckAttrInterval(250);
    client.resource(edited).update();

    conf = awaitConmgrConf(c -> c.heartbeatIntervalSeconds() == 3);
    assertThat(conf.heartbeatTimeoutSeconds()).isEqualTo(7);
    await().atMost(WAIT).untilAsserted(() -> assertThat(configMap(InstanceSetResources.watchdogConfigMapName("orders-db"))
        .getData().get(InstanceSetResources.WATCHDOG_CONF_KEY)).contains("watchdog.check_attr_interval = 250"));

    ResourceID id = ResourceID.fromResource(created);
    assertThat(observer.get().tracked).containsKey(id);
    client.resources(InstanceSet.class).inNamespace(NS).withName("orders-db").delete();
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(client.resources(InstanceSet.class).inNamespace(NS).withName("orders-db").get()).isNull();
      assertThat(observer.get().tracked).doesNotContainKey(id);
    });
  }

  @Test
  void selectedPodsBecomeInstancesAndAreFollowedWhenAddedChangedAndRemoved() throws Exception {
    InstanceSet set = instanceSet();
    set.getSpec().setInstances(new java.util.ArrayList<>());
    set.getSpec().setPostgresSelector(new PostgresSelector(Map.of("app", "orders-pg"), 5432));
    client.resource(set).create();
    // Pods without hostname and subdomain: known by their IP, so conmgr.conf follows every new IP.
    createIpOnlyPod("orders-pg-0", "198.18.1.10", Map.of("app", "orders-pg"));
    createIpOnlyPod("orders-pg-1", "198.18.1.11", Map.of("app", "orders-pg"));
    createIpOnlyPod("web-0", "198.18.1.50", Map.of("app", "web"));

    ConmgrConf conf = awaitConmgrConf(c -> c.instances().size() == 2);
    assertThat(conf.instances()).extracting(BackendInstance::hostaddr).containsExactly("198.18.1.10", "198.18.1.11");
    assertThat(conf.instances()).extracting(BackendInstance::host).containsOnlyNulls();
    assertThat(conf.instances()).allSatisfy(i -> {
      assertThat(i.port()).isEqualTo(5432);
      assertThat(i.watchdogPort()).isEqualTo(27545);
    });

    createIpOnlyPod("orders-pg-2", "198.18.1.12", Map.of("app", "orders-pg"));
    awaitConmgrConf(c -> c.instances().size() == 3);

    Pod moved = client.pods().inNamespace(NS).withName("orders-pg-1").get();
    moved.getStatus().setPodIP("198.18.1.21");
    client.pods().inNamespace(NS).resource(moved).updateStatus();
    conf = awaitConmgrConf(c -> c.instances().stream().anyMatch(i -> "198.18.1.21".equals(i.hostaddr())));
    assertThat(conf.instances()).extracting(BackendInstance::hostaddr)
        .containsExactly("198.18.1.10", "198.18.1.21", "198.18.1.12");

    client.pods().inNamespace(NS).withName("orders-pg-0").delete();
    conf = awaitConmgrConf(c -> c.instances().size() == 2);
    assertThat(conf.instances()).extracting(BackendInstance::hostaddr).containsExactly("198.18.1.21", "198.18.1.12");

    Pod relabelled = client.pods().inNamespace(NS).withName("orders-pg-2").get();
    relabelled.getMetadata().setLabels(Map.of("app", "retired"));
    client.pods().inNamespace(NS).resource(relabelled).update();
    conf = awaitConmgrConf(c -> c.instances().size() == 1);
    assertThat(conf.instances()).extracting(BackendInstance::hostaddr).containsExactly("198.18.1.21");

    // The last pod goes: there is no valid conmgr.conf without an instance, so the last good one stays.
    client.pods().inNamespace(NS).withName("orders-pg-1").delete();
    InstanceSet empty = await().atMost(WAIT).until(() -> client.resources(InstanceSet.class).inNamespace(NS)
        .withName("orders-db").get(), s -> s.getStatus() != null && s.getStatus().getInstances().isEmpty());
    assertThat(condition(empty, "Ready").getReason()).isEqualTo("NoInstances");
    assertThat(awaitConmgrConf(c -> true).instances()).extracting(BackendInstance::hostaddr).containsExactly("198.18.1.21");
  }

  @Test
  void statefulSetPodWithANewIpLeavesConmgrConfAsItWasAndNoPodStale() throws Exception {
    InstanceSet set = instanceSet();
    set.getSpec().setInstances(new java.util.ArrayList<>());
    set.getSpec().setPostgresSelector(new PostgresSelector(Map.of("app", "orders-pg"), 5432));
    client.resource(set).create();
    createPod("orders-pg-0", "198.18.1.10", Map.of("app", "orders-pg"));
    createPod("orders-pg-1", "198.18.1.11", Map.of("app", "orders-pg"));
    ConmgrConf conf = awaitConmgrConf(c -> c.instances().size() == 2);
    assertThat(conf.instances()).extracting(BackendInstance::host, BackendInstance::hostaddr).containsExactly(
        org.assertj.core.groups.Tuple.tuple("orders-pg-0.orders-pg.shop.svc", null),
        org.assertj.core.groups.Tuple.tuple("orders-pg-1.orders-pg.shop.svc", null));
    String hash = await().atMost(WAIT).until(this::status, s -> s != null && s.getConmgrConfHash() != null)
        .getConmgrConfHash();
    createAppPod("web-0", hash);
    await().atMost(WAIT).untilAsserted(() -> assertThat(status().getStaleConmgrPods()).isZero());
    ConfigMap before = configMap(InstanceSetResources.conmgrConfigMapName("orders-db"));
    int settled = awaitQuiet();

    Pod moved = client.pods().inNamespace(NS).withName("orders-pg-1").get();
    moved.getStatus().setPodIP("198.18.1.21");
    client.pods().inNamespace(NS).resource(moved).updateStatus();
    await().atMost(WAIT).until(() -> observer.get().trackCalls.get() > settled);
    awaitQuiet();

    ConfigMap after = configMap(InstanceSetResources.conmgrConfigMapName("orders-db"));
    assertThat(after.getMetadata().getResourceVersion()).as("conmgr ConfigMap not rewritten")
        .isEqualTo(before.getMetadata().getResourceVersion());
    assertThat(after.getData()).isEqualTo(before.getData());
    assertThat(status().getConmgrConfHash()).isEqualTo(hash);
    assertThat(status().getStaleConmgrPods()).isZero();
    assertThat(client.v1().events().inNamespace(NS).list().getItems())
        .noneSatisfy(e -> assertThat(e.getReason()).isEqualTo("ConmgrConfStale"));
    assertThat(observer.get().tracked.values()).singleElement().satisfies(instances ->
        assertThat(instances).extracting(SetInstance::address)
            .containsExactly("orders-pg-0.orders-pg.shop.svc", "orders-pg-1.orders-pg.shop.svc"));
  }

  @Test
  void statusReportsEveryInstanceAndIsWrittenOnlyWhenItChanges() throws Exception {
    client.resource(instanceSet()).create();

    InstanceSet withStatus = await().atMost(WAIT).until(() -> client.resources(InstanceSet.class).inNamespace(NS)
        .withName("orders-db").get(), s -> s.getStatus() != null && s.getStatus().getObservedGeneration() != null);
    assertThat(withStatus.getStatus().getObservedGeneration()).isEqualTo(1L);
    assertThat(withStatus.getStatus().getPrimary()).isNull();
    assertThat(withStatus.getStatus().getInstances()).extracting(InstanceStatus::getName, InstanceStatus::getRole,
            InstanceStatus::getLink)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("pg-archive.example.internal", InstanceStatus.Role.UNKNOWN, InstanceStatus.Link.DOWN),
            org.assertj.core.groups.Tuple.tuple("198.18.0.10", InstanceStatus.Role.UNKNOWN, InstanceStatus.Link.DOWN));
    Condition ready = condition(withStatus, "Ready");
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("NoPrimary");
    Condition degraded = condition(withStatus, "Degraded");
    assertThat(degraded.getStatus()).isEqualTo("True");
    assertThat(degraded.getReason()).isEqualTo("InstancesUnavailable");
    assertThat(degraded.getMessage()).contains("198.18.0.10", "pg-archive.example.internal");

    String version = withStatus.getMetadata().getResourceVersion();
    int before = observer.get().trackCalls.get();
    observer.get().changed.accept(ResourceID.fromResource(withStatus));
    await().atMost(WAIT).until(() -> observer.get().trackCalls.get() > before);
    Thread.sleep(500);
    InstanceSet after = client.resources(InstanceSet.class).inNamespace(NS).withName("orders-db").get();
    assertThat(after.getMetadata().getResourceVersion()).as("an unchanged status is not written again").isEqualTo(version);
    assertThat(condition(after, "Ready").getLastTransitionTime()).isEqualTo(ready.getLastTransitionTime());
  }

  @Test
  void specTheValidatorRejectsIsReportedInStatusAndLeavesTheLastGoodConmgrConf() throws Exception {
    client.resource(instanceSet()).create();
    ConmgrConf good = awaitConmgrConf(c -> c.instances().size() == 2);
    assertThat(good.listeners()).isEmpty();
    ResourceID id = new ResourceID("orders-db", NS);
    await().atMost(WAIT).until(() -> observer.get().timings.get(id) != null);

    // The CRD's CEL rule refuses a listener on conmgr's own port; Fabric8's mock does not run CEL, so the
    // operator's validator is what stops it here, as it would on a cluster without CEL (before 1.25).
    InstanceSet broken = client.resources(InstanceSet.class).inNamespace(NS).withName("orders-db").get();
    broken.getSpec().getConmgr().getListeners().add(new ListenerSpec(27546, SessionTarget.ANY));
    broken.getSpec().getConmgr().setHeartbeatInterval(3);
    broken.getSpec().getConmgr().setHeartbeatTimeout(7);
    client.resource(broken).update();

    InstanceSet reported = await().atMost(WAIT).until(() -> client.resources(InstanceSet.class).inNamespace(NS)
        .withName("orders-db").get(), s -> s.getStatus() != null && s.getStatus().getObservedGeneration() == 2L);
    Condition ready = condition(reported, "Ready");
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("InvalidSpec");
    assertThat(ready.getMessage()).contains("listener_port0 = 27546 is already used by port");
    await().atMost(WAIT).untilAsserted(() -> assertThat(client.v1().events().inNamespace(NS).list().getItems())
        .anySatisfy(e -> {
          assertThat(e.getReason()).isEqualTo("InvalidSpec");
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getMessage()).contains("already used by port", "last valid conmgr.conf stays");
        }));
    assertThat(awaitConmgrConf(c -> true)).as("the last good conmgr.conf, untouched").isEqualTo(good);
    assertThat(observer.get().timings.get(id).intervalMs()).as("sessions keep the last good timing").isEqualTo(10_000);

    InstanceSet fixed = client.resources(InstanceSet.class).inNamespace(NS).withName("orders-db").get();
    fixed.getSpec().getConmgr().getListeners().get(0).setPort(6433);
    client.resource(fixed).update();
    ConmgrConf repaired = awaitConmgrConf(c -> c.heartbeatIntervalSeconds() == 3);
    assertThat(repaired.listeners()).extracting(l -> l.port()).containsExactly(6433);
    await().atMost(WAIT).untilAsserted(() -> assertThat(condition(client.resources(InstanceSet.class).inNamespace(NS)
        .withName("orders-db").get(), "Ready").getReason()).isEqualTo("NoPrimary"));
  }

  @Test
  void podsStartedWithAnOlderConmgrConfAreCountedInStatus() throws Exception {
    client.resource(instanceSet()).create();
    String first = await().atMost(WAIT).until(() -> client.resources(InstanceSet.class).inNamespace(NS)
        .withName("orders-db").get().getStatus(), s -> s != null && s.getConmgrConfHash() != null).getConmgrConfHash();
    createAppPod("web-0", first);
    createAppPod("web-1", first);
    await().atMost(WAIT).untilAsserted(() -> assertThat(status().getStaleConmgrPods()).isZero());

    // conmgr.conf changes: both pods still run the old one.
    InstanceSet edited = client.resources(InstanceSet.class).inNamespace(NS).withName("orders-db").get();
    edited.getSpec().getConmgr().setMaxConnections(50);
    client.resource(edited).update();
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(status().getConmgrConfHash()).isNotEqualTo(first);
      assertThat(status().getStaleConmgrPods()).isEqualTo(2);
    });
    await().atMost(WAIT).untilAsserted(() -> assertThat(client.v1().events().inNamespace(NS).list().getItems())
        .anySatisfy(e -> {
          assertThat(e.getReason()).isEqualTo("ConmgrConfStale");
          assertThat(e.getMessage()).startsWith("2 pod(s)").endsWith("web-0, web-1");
        }));

    // One pod is replaced by a pod admitted with the current hash.
    client.pods().inNamespace(NS).withName("web-0").delete();
    createAppPod("web-2", status().getConmgrConfHash());
    await().atMost(WAIT).untilAsserted(() -> assertThat(status().getStaleConmgrPods()).isEqualTo(1));
  }

  @Test
  void podChangesTheOperatorDoesNotReadStartNoReconciliation() throws Exception {
    InstanceSet set = instanceSet();
    set.getSpec().setInstances(new java.util.ArrayList<>());
    set.getSpec().setPostgresSelector(new PostgresSelector(Map.of("app", "orders-pg"), 5432));
    client.resource(set).create();
    createIpOnlyPod("orders-pg-0", "198.18.1.10", Map.of("app", "orders-pg"));
    awaitConmgrConf(c -> c.instances().size() == 1);
    int settled = awaitQuiet();

    Pod pod = client.pods().inNamespace(NS).withName("orders-pg-0").get();
    pod.getStatus().setConditions(List.of(new io.fabric8.kubernetes.api.model.PodConditionBuilder()
        .withType("Ready").withStatus("False").build()));
    client.pods().inNamespace(NS).resource(pod).updateStatus();
    Thread.sleep(1000);
    assertThat(observer.get().trackCalls.get()).as("reconciliations after a readiness change").isEqualTo(settled);

    pod = client.pods().inNamespace(NS).withName("orders-pg-0").get();
    pod.getStatus().setPodIP("198.18.1.20");
    client.pods().inNamespace(NS).resource(pod).updateStatus();
    awaitConmgrConf(c -> "198.18.1.20".equals(c.instances().get(0).hostaddr()));
    assertThat(observer.get().trackCalls.get()).as("reconciliations after a new IP").isGreaterThan(settled);
  }

  /** Waits until no reconciliation happened for a second; returns the count of track calls then. */
  private int awaitQuiet() {
    AtomicReference<Integer> last = new AtomicReference<>(-1);
    await().atMost(WAIT).pollInterval(Duration.ofSeconds(1)).until(() -> {
      int now = observer.get().trackCalls.get();
      return last.getAndSet(now) == now;
    });
    return last.get();
  }

  private io.pgconmgr.operator.crd.InstanceSetStatus status() {
    return client.resources(InstanceSet.class).inNamespace(NS).withName("orders-db").get().getStatus();
  }

  private void createAppPod(String name, String hash) {
    Pod pod = new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(NS)
          .withLabels(Map.of("app", "web", InstanceSetResources.INJECT_LABEL, "orders-db"))
          .withAnnotations(Map.of(InstanceSetResources.INJECTED_ANNOTATION, "conmgr:orders-db",
              InstanceSetResources.CONMGR_CONF_HASH_ANNOTATION, hash))
        .endMetadata()
        .withNewSpec().addNewContainer().withName("web").withImage("example.org/web:1").endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP("198.18.2.10").endStatus()
        .build();
    client.pods().inNamespace(NS).resource(pod).create();
  }

  private static Condition condition(InstanceSet set, String type) {
    return set.getStatus().getConditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  private ConmgrConf awaitConmgrConf(java.util.function.Predicate<ConmgrConf> until) {
    AtomicReference<ConmgrConf> last = new AtomicReference<>();
    await().atMost(WAIT).untilAsserted(() -> {
      ConfigMap cm = configMap(InstanceSetResources.conmgrConfigMapName("orders-db"));
      assertThat(cm).as("conmgr ConfigMap").isNotNull();
      ConmgrConf conf = ConmgrConfParser.parse(cm.getData().get(InstanceSetResources.CONMGR_CONF_KEY), "conmgr.conf");
      last.set(conf);
      assertThat(until.test(conf)).as("conmgr.conf %s", conf).isTrue();
    });
    return last.get();
  }

  private ConfigMap awaitConfigMap(String name) {
    return await().atMost(WAIT).until(() -> configMap(name), cm -> cm != null);
  }

  private ConfigMap configMap(String name) {
    return client.configMaps().inNamespace(NS).withName(name).get();
  }

  /** A pod without hostname and subdomain (not behind a headless Service): an instance by its IP. */
  private void createIpOnlyPod(String name, String ip, Map<String, String> labels) {
    Pod pod = new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(NS).withLabels(labels).endMetadata()
        .withNewSpec().addNewContainer().withName("postgres").withImage("postgres:17").endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).endStatus()
        .build();
    client.pods().inNamespace(NS).resource(pod).create();
  }

  /** A StatefulSet-like pod: hostname and subdomain give it a stable DNS name. */
  private void createPod(String name, String ip, Map<String, String> labels) {
    Pod pod = new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(NS).withLabels(labels).endMetadata()
        .withNewSpec().withHostname(name).withSubdomain("orders-pg")
          .addNewContainer().withName("postgres").withImage("postgres:17").endContainer()
        .endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).endStatus()
        .build();
    client.pods().inNamespace(NS).resource(pod).create();
  }

  static InstanceSet instanceSet() {
    InstanceSet set = new InstanceSet();
    set.getMetadata().setName("orders-db");
    set.getMetadata().setNamespace(NS);
    InstanceSetSpec spec = new InstanceSetSpec();
    spec.getInstances().add(new InstanceSpec("pg-archive.example.internal", null, 5432, 27545));
    spec.getInstances().add(new InstanceSpec(null, "198.18.0.10", 5433, 27555));
    set.setSpec(spec);
    return set;
  }
}
