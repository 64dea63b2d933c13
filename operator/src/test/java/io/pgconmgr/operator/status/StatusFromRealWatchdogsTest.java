package io.pgconmgr.operator.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgconmgr.operator.ControllerWiring;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.InstanceSetStatus;
import io.pgconmgr.operator.crd.InstanceSpec;
import io.pgconmgr.operator.crd.InstanceStatus;
import io.pgconmgr.operator.crd.InstanceStatus.Link;
import io.pgconmgr.operator.crd.InstanceStatus.Role;
import io.pgconmgr.operator.model.DesiredConfig;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import io.pgconmgr.watchdog.SettingsFile;
import io.pgconmgr.watchdog.Watchdog;
import io.pgconmgr.watchdog.WatchdogSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's status from real watchdogs (in-process, the watchdog module's own class) checking a
 * real PostgreSQL primary and streaming standby from the test kit, through the protocol's heartbeat
 * client; the InstanceSet lives on Fabric8's CRUD mock API server. Healthy first, then a failover.
 */
@EnableKubernetesMockClient(crud = true)
class StatusFromRealWatchdogsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  // Distinct loopback addresses, so each instance has its own name and its watchdog its own address.
  private static final String PRIMARY_ADDR = "127.0.0.2";
  private static final String STANDBY_ADDR = "127.0.0.3";
  private static PgCluster cluster;
  KubernetesClient client;
  @TempDir
  static Path tmp;

  @BeforeAll
  static void startPostgres() {
    cluster = PgCluster.builder().standbys(1).start();
  }

  @AfterAll
  static void stopPostgres() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void statusShowsRolesFromTheWatchdogsAndFollowsAPromotion() throws Exception {
    PgInstance primary = cluster.primary();
    PgInstance standby = cluster.standby(0);
    try (Watchdog primaryWatchdog = Watchdog.start(settings(primary, PRIMARY_ADDR));
         Watchdog standbyWatchdog = Watchdog.start(settings(standby, STANDBY_ADDR));
         ControllerWiring.Built operator = new ControllerWiring(client, false, Set.of(),
             changed -> new HeartbeatObserver(changed, null), null).build().start()) {
      InstanceSet set = new InstanceSet();
      set.getMetadata().setName("orders-db");
      set.getMetadata().setNamespace("shop");
      set.setSpec(new InstanceSetSpec());
      set.getSpec().getInstances().add(new InstanceSpec(null, PRIMARY_ADDR, primary.port(), primaryWatchdog.port()));
      set.getSpec().getInstances().add(new InstanceSpec(null, STANDBY_ADDR, standby.port(), standbyWatchdog.port()));
      set.getSpec().getConmgr().setHeartbeatInterval(1);
      set.getSpec().getConmgr().setHeartbeatTimeout(3);
      set.getSpec().getConmgr().setHeartbeatConnectTimeout(2);
      client.resource(set).create();

      long t0 = System.nanoTime();
      InstanceSetStatus healthy = awaitStatus(s -> PRIMARY_ADDR.equals(s.getPrimary())
          && s.getInstances().stream().allMatch(i -> i.getLink() == Link.UP && i.getRole() != Role.UNKNOWN));
      System.out.printf("status shows both roles %d ms after the InstanceSet was created%n", ms(t0));
      assertThat(healthy.getInstances()).extracting(InstanceStatus::getName, InstanceStatus::getRole)
          .containsExactly(org.assertj.core.groups.Tuple.tuple(PRIMARY_ADDR, Role.PRIMARY),
              org.assertj.core.groups.Tuple.tuple(STANDBY_ADDR, Role.STANDBY));
      long timeline = healthy.getInstances().get(0).getTimeline();
      assertThat(healthy.getInstances().get(1).getTimeline()).isEqualTo(timeline);
      assertThat(condition(healthy, "Ready").getStatus()).isEqualTo("True");
      assertThat(condition(healthy, "Degraded").getStatus()).isEqualTo("False");
      assertThat(primaryWatchdog.sessions()).as("the operator is a heartbeat peer of each watchdog").hasSize(1);

      // Failover: the primary stops, the standby is promoted.
      primary.stop();
      InstanceSetStatus lost = awaitStatus(s -> s.getPrimary() == null
          && s.getInstances().get(0).getRole() == Role.UNKNOWN);
      assertThat(lost.getInstances().get(0).getLink()).as("its watchdog still answers").isEqualTo(Link.UP);
      assertThat(lost.getInstances().get(0).getReachable()).isFalse();
      assertThat(condition(lost, "Ready").getReason()).isEqualTo("NoPrimary");
      assertThat(condition(lost, "Degraded").getReason()).isEqualTo("InstancesUnavailable");

      long t1 = System.nanoTime();
      standby.promote();
      InstanceSetStatus promoted = awaitStatus(s -> STANDBY_ADDR.equals(s.getPrimary()));
      System.out.printf("status shows the promoted primary %d ms after pg_ctl promote returned%n", ms(t1));
      assertThat(promoted.getInstances().get(1).getRole()).isEqualTo(Role.PRIMARY);
      assertThat(promoted.getInstances().get(1).getTimeline()).isGreaterThan(timeline);
      assertThat(condition(promoted, "Ready").getStatus()).isEqualTo("True");
      assertThat(condition(promoted, "Ready").getMessage()).contains(STANDBY_ADDR);
      assertThat(condition(promoted, "Degraded").getStatus()).isEqualTo("True");

      await().atMost(WAIT).untilAsserted(() -> assertThat(events()).extracting(Event::getReason)
          .contains("Ready", "InstanceUnreachable", "NotReady", "RoleChanged"));
      assertThat(events()).filteredOn(e -> e.getReason().equals("RoleChanged")).singleElement()
          .satisfies(e -> assertThat(e.getMessage()).startsWith(STANDBY_ADDR + " is now primary (was standby)"));

      // The old primary's watchdog goes away: its link is reported down.
      primaryWatchdog.close();
      InstanceSetStatus linkDown = awaitStatus(s -> s.getInstances().get(0).getLink() == Link.DOWN);
      assertThat(linkDown.getPrimary()).isEqualTo(STANDBY_ADDR);
      await().atMost(WAIT).untilAsserted(() -> assertThat(events()).extracting(Event::getReason).contains("LinkDown"));

      // The InstanceSet is deleted: the operator ends its session with the remaining watchdog.
      assertThat(standbyWatchdog.sessions()).as("the operator's session before the delete").hasSize(1);
      client.resources(InstanceSet.class).inNamespace("shop").withName("orders-db").delete();
      await().atMost(WAIT).untilAsserted(() -> assertThat(standbyWatchdog.sessions())
          .as("sessions of the standby's watchdog after the InstanceSet was deleted").isEmpty());
    }
  }

  @Test
  void renderedWatchdogSettingsLoadInTheWatchdog() throws Exception {
    InstanceSet set = new InstanceSet();
    set.getMetadata().setName("orders-db");
    set.getMetadata().setNamespace("shop");
    set.setSpec(new InstanceSetSpec());
    set.getSpec().setPostgresSelector(new io.pgconmgr.operator.crd.PostgresSelector(java.util.Map.of("app", "pg"), 5432));
    set.getSpec().getWatchdog().setCheckAttrInterval(250);
    set.getSpec().getWatchdog().setMaxHeartbeatConnections(40);
    Path file = tmp.resolve("watchdog.conf");
    Files.writeString(file, DesiredConfig.of(set, List.of()).watchdogText());

    WatchdogSettings loaded = SettingsFile.load(file);

    assertThat(loaded.port()).isEqualTo(27545);
    assertThat(loaded.httpPort()).isEqualTo(27548);
    assertThat(loaded.checkAttrIntervalMs()).isEqualTo(250);
    assertThat(loaded.maxHeartbeatConnections()).isEqualTo(40);
    assertThat(loaded.statFile()).isEqualTo(Path.of("/var/run/pgconmgr/pgx_stat_watchdog.csv"));
    assertThat(loaded.stateFile()).isEqualTo(Path.of("/var/run/pgconmgr/watchdog.peers"));
  }

  private WatchdogSettings settings(PgInstance pg, String address) {
    return WatchdogSettings.builder("host=127.0.0.1 port=" + pg.port() + " user=postgres dbname=postgres")
        .listenAddress(address).port(0).httpPort(0).checkAttrIntervalMs(200).checkTimeoutMs(2000).build();
  }

  private InstanceSetStatus awaitStatus(java.util.function.Predicate<InstanceSetStatus> until) {
    return await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
      InstanceSet s = client.resources(InstanceSet.class).inNamespace("shop").withName("orders-db").get();
      return s == null ? null : s.getStatus();
    }, s -> s != null && until.test(s));
  }

  private List<Event> events() {
    return client.v1().events().inNamespace("shop").list().getItems();
  }

  private static Condition condition(InstanceSetStatus s, String type) {
    return s.getConditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  private static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }
}
