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
import io.pgconmgr.operator.crd.PostgresSelector;
import io.pgconmgr.operator.model.InstanceSetResources;
import io.pgconmgr.operator.testsupport.RecordingObserver;
import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.conf.ConfFile;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConfParser;
import java.time.Duration;
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
    createPod("orders-pg-0", "198.18.1.10", Map.of("app", "orders-pg"));
    createPod("orders-pg-1", "198.18.1.11", Map.of("app", "orders-pg"));
    createPod("web-0", "198.18.1.50", Map.of("app", "web"));

    ConmgrConf conf = awaitConmgrConf(c -> c.instances().size() == 2);
    assertThat(conf.instances()).extracting(BackendInstance::hostaddr).containsExactly("198.18.1.10", "198.18.1.11");
    assertThat(conf.instances()).extracting(BackendInstance::host)
        .containsExactly("orders-pg-0.orders-pg.shop.svc", "orders-pg-1.orders-pg.shop.svc");
    assertThat(conf.instances()).allSatisfy(i -> {
      assertThat(i.port()).isEqualTo(5432);
      assertThat(i.watchdogPort()).isEqualTo(27545);
    });

    createPod("orders-pg-2", "198.18.1.12", Map.of("app", "orders-pg"));
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
