package io.pgconmgr.operator.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgconmgr.operator.crd.ConmgrSpec;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.crd.WatchdogSpec;
import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.conf.ConfEntry;
import io.pgconmgr.protocol.conf.ConfFile;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConf.LogDestination;
import io.pgconmgr.protocol.conf.ConmgrConf.LogLevel;
import io.pgconmgr.protocol.conf.ConmgrConf.SyslogFacility;
import io.pgconmgr.protocol.conf.ConmgrConfParser;
import io.pgconmgr.protocol.conf.Listener;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Spec in, conmgr.conf and watchdog settings out: what the sidecars read back is what the user wrote. */
class DesiredConfigTest {

  @Test
  void everyConmgrSettingOfTheSpecReachesTheRenderedFileAndParsesBack() throws Exception {
    InstanceSet set = fullExample();
    List<Pod> pods = List.of(pod("orders-pg-1", "198.18.1.11", "Running"), pod("orders-pg-0", "198.18.1.10", "Running"));

    DesiredConfig desired = DesiredConfig.of(set, pods);

    assertThat(desired.errors()).isEmpty();
    ConmgrConf parsed = ConmgrConfParser.parse(desired.conmgrText(), "conmgr.conf");
    assertThat(parsed).isEqualTo(desired.conmgrConf());
    assertThat(parsed.port()).isEqualTo(6432);
    assertThat(parsed.targetSessionAttrs()).isEqualTo(TargetSessionAttrs.READ_WRITE);
    assertThat(parsed.listeners()).containsExactly(new Listener(6433, TargetSessionAttrs.PREFER_STANDBY),
        new Listener(6434, TargetSessionAttrs.ANY));
    assertThat(parsed.listenAddresses()).isEqualTo("127.0.0.1");
    assertThat(parsed.heartbeatIntervalSeconds()).isEqualTo(2);
    assertThat(parsed.heartbeatTimeoutSeconds()).isEqualTo(5);
    assertThat(parsed.heartbeatConnectIntervalSeconds()).isEqualTo(1);
    assertThat(parsed.heartbeatConnectTimeoutSeconds()).isEqualTo(3);
    assertThat(parsed.logDestinations()).containsExactlyInAnyOrder(LogDestination.STDERR, LogDestination.SYSLOG);
    assertThat(parsed.syslogFacility()).isEqualTo(SyslogFacility.LOCAL3);
    assertThat(parsed.syslogIdent()).isEqualTo("orders-conmgr");
    assertThat(parsed.logMinMessages()).isEqualTo(LogLevel.LOG);
    assertThat(parsed.maxConnections()).isEqualTo(200);
    assertThat(parsed.httpPort()).isEqualTo(6480);
    assertThat(parsed.routeWaitTimeoutMs()).isEqualTo(8000);
    assertThat(parsed.instances()).extracting(BackendInstance::number, BackendInstance::host, BackendInstance::hostaddr,
            BackendInstance::port, BackendInstance::watchdogPort)
        .containsExactly(
            tuple(0, "pg-archive.example.internal", null, 5432, 27545),
            tuple(1, null, "198.18.0.10", 5433, 27555),
            tuple(2, "orders-pg-0.orders-pg.shop.svc", null, 5432, 27545),
            tuple(3, "orders-pg-1.orders-pg.shop.svc", null, 5432, 27545));
  }

  @Test
  void theTestAboveChecksEveryConmgrField() {
    // A field added to ConmgrSpec must be mapped in ConmgrConfFactory and asserted above.
    Set<String> fields = new TreeSet<>();
    Serialization.jsonMapper().valueToTree(new ConmgrSpec()).fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactlyInAnyOrder("port", "targetSessionAttrs", "listeners", "listenAddresses",
        "heartbeatInterval", "heartbeatTimeout", "heartbeatConnectInterval", "heartbeatConnectTimeout",
        "logDestination", "syslogFacility", "syslogIdent", "logMinMessages", "maxConnections", "httpPort",
        "routeWaitTimeoutMs");
  }

  @Test
  void defaultSpecGivesTheSeedDefaults() throws Exception {
    InstanceSet set = fullExample();
    set.getSpec().setConmgr(new ConmgrSpec());
    ConmgrConf parsed = ConmgrConfParser.parse(DesiredConfig.of(set, List.of()).conmgrText(), "conmgr.conf");
    assertThat(parsed.port()).isEqualTo(27546);
    assertThat(parsed.heartbeatIntervalSeconds()).isEqualTo(10);
    assertThat(parsed.heartbeatTimeoutSeconds()).isEqualTo(20);
    assertThat(parsed.heartbeatConnectIntervalSeconds()).isEqualTo(1);
    assertThat(parsed.heartbeatConnectTimeoutSeconds()).isEqualTo(10);
    assertThat(parsed.logDestinations()).containsExactly(LogDestination.STDERR);
    assertThat(parsed.syslogFacility()).isEqualTo(SyslogFacility.LOCAL0);
    assertThat(parsed.syslogIdent()).isEqualTo("conmgr");
    assertThat(parsed.logMinMessages()).isEqualTo(LogLevel.WARNING);
    assertThat(parsed.maxConnections()).isZero();
    assertThat(parsed.httpPort()).isEqualTo(27547);
  }

  @Test
  void watchdogSettingsParseAsPostgresqlConfWithEveryWatchdogField() throws Exception {
    DesiredConfig desired = DesiredConfig.of(fullExample(), List.of());
    ConfFile file = ConfFile.parse(desired.watchdogText(), "watchdog.conf");

    assertThat(file.errors()).isEmpty();
    Map<String, ConfEntry> s = file.settings();
    assertThat(s.get("watchdog.port").value()).isEqualTo("27545");
    assertThat(s.get("watchdog.http_port").value()).isEqualTo("27548");
    assertThat(s.get("watchdog.check_attr_interval").value()).isEqualTo("500");
    assertThat(s.get("watchdog.max_heartbeat_connections").value()).isEqualTo("500");
    assertThat(s.get("watchdog.conninfo").value())
        .isEqualTo("host=127.0.0.1 port=5432 user=pgconmgr_watchdog dbname=postgres");
    assertThat(s.get("watchdog.stat_file").value()).isEqualTo("/var/run/pgconmgr/pgx_stat_watchdog.csv");
    assertThat(s.get("watchdog.state_file").value()).isEqualTo("/var/run/pgconmgr/watchdog.peers");
    Set<String> fields = new TreeSet<>();
    Serialization.jsonMapper().valueToTree(new WatchdogSpec()).fieldNames().forEachRemaining(fields::add);
    assertThat(fields).as("WatchdogSpec fields, each rendered above")
        .containsExactlyInAnyOrder("port", "httpPort", "checkAttrInterval", "user", "database");
  }

  @Test
  void podsKnownByIpBecomeInstancesOnlyWhileTheyHaveAnIpAndAreNotLeaving() {
    InstanceSet set = fullExample();
    set.getSpec().setInstances(new ArrayList<>());
    Pod deleting = ipOnly(pod("orders-pg-3", "198.18.1.13", "Running"));
    deleting.getMetadata().setDeletionTimestamp("2026-11-27T12:00:00Z");
    Pod other = pod("web-0", "198.18.1.50", "Running");
    other.getMetadata().setLabels(Map.of("app", "web"));
    List<Pod> pods = List.of(ipOnly(pod("orders-pg-2", "198.18.1.12", "Running")),
        ipOnly(pod("orders-pg-1", null, "Pending")), ipOnly(pod("orders-pg-0", "198.18.1.10", "Failed")), deleting, other);

    List<SetInstance> instances = SetInstances.resolve(set.getSpec(), pods);

    assertThat(instances).extracting(SetInstance::number, SetInstance::name, SetInstance::host, SetInstance::hostaddr)
        .containsExactly(tuple(0, "orders-pg-2", null, "198.18.1.12"));
    assertThat(DesiredConfig.of(set, pods).conmgrText())
        .contains("backend_hostaddr0 = '198.18.1.12'").doesNotContain("backend_host0");
  }

  @Test
  void statefulSetPodRescheduledWithANewIpRendersTheSameConmgrConf() {
    InstanceSet set = fullExample();
    set.getSpec().setInstances(new ArrayList<>());
    List<Pod> before = List.of(pod("orders-pg-0", "198.18.1.10", "Running"), pod("orders-pg-1", "198.18.1.11", "Running"));
    String text = DesiredConfig.of(set, before).conmgrText();
    assertThat(text).contains("backend_host0 = 'orders-pg-0.orders-pg.shop.svc'",
        "backend_host1 = 'orders-pg-1.orders-pg.shop.svc'").doesNotContain("hostaddr", "198.18.1.1");

    // orders-pg-1 is drained: being deleted, then re-created without an IP, then running with another one.
    Pod leaving = pod("orders-pg-1", "198.18.1.11", "Running");
    leaving.getMetadata().setDeletionTimestamp("2026-11-27T12:00:00Z");
    List<List<Pod>> reschedule = List.of(
        List.of(pod("orders-pg-0", "198.18.1.10", "Running"), leaving),
        List.of(pod("orders-pg-0", "198.18.1.10", "Running"), pod("orders-pg-1", null, "Pending")),
        List.of(pod("orders-pg-1", "198.18.7.77", "Running"), pod("orders-pg-0", "198.18.1.10", "Running")));
    for (List<Pod> pods : reschedule) {
      assertThat(DesiredConfig.of(set, pods).conmgrText()).as("conmgr.conf with %s", pods.stream()
          .map(p -> p.getMetadata().getName() + "@" + p.getStatus().getPodIP()).toList()).isEqualTo(text);
    }
    assertThat(DesiredConfig.hash(DesiredConfig.of(set, reschedule.get(2)).conmgrText()))
        .isEqualTo(DesiredConfig.hash(text));
  }

  @Test
  void endedStatefulSetPodIsNoInstance() {
    InstanceSet set = fullExample();
    set.getSpec().setInstances(new ArrayList<>());
    List<SetInstance> instances = SetInstances.resolve(set.getSpec(),
        List.of(pod("orders-pg-0", "198.18.1.10", "Running"), pod("orders-pg-1", "198.18.1.11", "Failed"),
            pod("orders-pg-2", null, "Succeeded")));
    assertThat(instances).extracting(SetInstance::name).containsExactly("orders-pg-0");
  }

  @Test
  void selectedPodsAreNumberedByOrdinalNeverByIp() {
    InstanceSet set = fullExample();
    set.getSpec().setInstances(new ArrayList<>());
    List<Pod> pods = List.of(pod("orders-pg-10", "198.18.1.1", "Running"), pod("orders-pg-2", "198.18.1.3", "Running"),
        ipOnly(pod("orders-pg-1", "198.18.1.9", "Running")), pod("orders-pg-0", "198.18.1.2", "Running"));

    assertThat(SetInstances.resolve(set.getSpec(), pods))
        .extracting(SetInstance::number, SetInstance::name, SetInstance::address)
        .containsExactly(
            tuple(0, "orders-pg-0", "orders-pg-0.orders-pg.shop.svc"),
            tuple(1, "orders-pg-1", "198.18.1.9"),
            tuple(2, "orders-pg-2", "orders-pg-2.orders-pg.shop.svc"),
            tuple(3, "orders-pg-10", "orders-pg-10.orders-pg.shop.svc"));
  }

  @Test
  void noInstanceGivesNoConmgrConfButStillWatchdogSettings() {
    InstanceSet set = fullExample();
    set.getSpec().setInstances(new ArrayList<>());
    DesiredConfig desired = DesiredConfig.of(set, List.of());
    assertThat(desired.isValid()).isFalse();
    assertThat(desired.errors()).singleElement().asString().contains("no backend instance");
    assertThat(desired.conmgrText()).isNull();
    assertThat(desired.watchdogText()).contains("watchdog.port = 27545");
  }

  @Test
  void conmgrConfHashFollowsTheRenderedFile() {
    InstanceSet set = fullExample();
    String before = DesiredConfig.hash(DesiredConfig.of(set, List.of()).conmgrText());
    assertThat(before).hasSize(16).isEqualTo(DesiredConfig.hash(DesiredConfig.of(set, List.of()).conmgrText()));
    set.getSpec().getConmgr().setMaxConnections(201);
    assertThat(DesiredConfig.hash(DesiredConfig.of(set, List.of()).conmgrText())).isNotEqualTo(before);
  }

  @Test
  void stalePodsAreRunningPodsInjectedForTheSetWithAnotherHash() {
    Pod current = appPod("web-current", "orders-db", "conmgr:orders-db", "aaaa");
    Pod old = appPod("web-old", "orders-db", "conmgr:orders-db", "bbbb");
    Pod unknown = appPod("web-unknown", "orders-db", "conmgr:orders-db", null);
    Pod skipped = appPod("web-skipped", "orders-db", null, null);
    Pod watchdogOnly = appPod("pg-both", "orders-db", "watchdog:orders-db,conmgr:orders-db-2", "bbbb");
    Pod otherSet = appPod("web-other", "billing-db", "conmgr:billing-db", "bbbb");
    Pod leaving = appPod("web-leaving", "orders-db", "conmgr:orders-db", "bbbb");
    leaving.getMetadata().setDeletionTimestamp("2026-11-27T12:00:00Z");
    Pod done = appPod("job-done", "orders-db", "conmgr:orders-db", "bbbb");
    done.getStatus().setPhase("Succeeded");

    assertThat(ConmgrPods.stale("orders-db", "aaaa", List.of(old, current, unknown, skipped, watchdogOnly, otherSet, leaving, done)))
        .containsExactly("web-old", "web-unknown");
  }

  private static Pod appPod(String name, String set, String injected, String hash) {
    Pod pod = pod(name, "198.18.2.1", "Running");
    pod.getMetadata().setLabels(Map.of(InstanceSetResources.INJECT_LABEL, set));
    Map<String, String> annotations = new java.util.HashMap<>();
    if (injected != null) {
      annotations.put(InstanceSetResources.INJECTED_ANNOTATION, injected);
    }
    if (hash != null) {
      annotations.put(InstanceSetResources.CONMGR_CONF_HASH_ANNOTATION, hash);
    }
    pod.getMetadata().setAnnotations(annotations);
    return pod;
  }

  /** The pod without hostname and subdomain: known by its IP only. */
  static Pod ipOnly(Pod pod) {
    pod.getSpec().setHostname(null);
    pod.getSpec().setSubdomain(null);
    return pod;
  }

  static InstanceSet fullExample() {
    try {
      return Serialization.unmarshal(Files.readString(Path.of("src/test/resources/crd/instanceset-full.yaml")),
          InstanceSet.class);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Pod pod(String name, String ip, String phase) {
    return new PodBuilder()
        .withNewMetadata().withName(name).withNamespace("shop").withLabels(Map.of("app", "orders-pg")).endMetadata()
        .withNewSpec().withHostname(name).withSubdomain("orders-pg").endSpec()
        .withNewStatus().withPhase(phase).withPodIP(ip).endStatus()
        .build();
  }
}
