package io.pgconmgr.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.InstanceSetStatus;
import io.pgconmgr.operator.crd.InstanceSpec;
import io.pgconmgr.operator.crd.ListenerSpec;
import io.pgconmgr.operator.crd.SessionTarget;
import io.pgconmgr.operator.crd.InstanceStatus.Link;
import io.pgconmgr.operator.crd.InstanceStatus.Role;
import io.pgconmgr.operator.model.DesiredConfig;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Observations in, status and events out. */
class StatusAggregatorTest {
  private static final Instant T0 = Instant.parse("2026-11-27T13:00:00Z");
  private static final Instant T1 = Instant.parse("2026-11-27T13:05:00Z");
  private static final Attributes PRIMARY_TL1 = new Attributes(true, false, false, 1, 42, -1, 170006);
  private static final Attributes STANDBY_TL1 = new Attributes(true, true, true, 1, 42, 0, 170006);
  private static final Attributes PRIMARY_TL2 = new Attributes(true, false, false, 2, 42, -1, 170006);
  private static final String HASH = "0123456789abcdef";
  private final DesiredConfig desired = DesiredConfig.of(set(), List.of());

  @Test
  void healthyPrimaryAndStandbyMakeTheSetReadyAndNotDegraded() {
    StatusUpdate u = StatusAggregator.aggregate(null, 3, desired, Map.of(
        "198.18.0.1:27545", new Observation(true, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, STANDBY_TL1)), HASH, List.of(), T0);

    InstanceSetStatus s = u.status();
    assertThat(s.getObservedGeneration()).isEqualTo(3);
    assertThat(s.getPrimary()).isEqualTo("198.18.0.1");
    assertThat(s.getInstances()).extracting(i -> i.getRole()).containsExactly(Role.PRIMARY, Role.STANDBY);
    assertThat(s.getInstances()).extracting(i -> i.getTimeline()).containsExactly(1L, 1L);
    assertThat(condition(s, "Ready")).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("PrimaryAvailable");
      assertThat(c.getLastTransitionTime()).isEqualTo("2026-11-27T13:00:00Z");
      assertThat(c.getObservedGeneration()).isEqualTo(3);
    });
    assertThat(condition(s, "Degraded").getStatus()).isEqualTo("False");
    assertThat(u.events()).extracting(StatusEvent::reason).containsExactly("Ready");
  }

  @Test
  void promotionAfterThePrimaryIsLostRaisesEventsAndKeepsUnchangedConditionTimes() {
    InstanceSetStatus healthy = StatusAggregator.aggregate(null, 1, desired, Map.of(
        "198.18.0.1:27545", new Observation(true, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, STANDBY_TL1)), HASH, List.of(), T0).status();

    StatusUpdate lost = StatusAggregator.aggregate(healthy, 1, desired, Map.of(
        "198.18.0.1:27545", new Observation(false, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, STANDBY_TL1)), HASH, List.of(), T1);
    assertThat(lost.status().getPrimary()).isNull();
    assertThat(lost.status().getInstances().get(0).getLink()).isEqualTo(Link.DOWN);
    assertThat(lost.status().getInstances().get(0).getRole()).isEqualTo(Role.UNKNOWN);
    assertThat(condition(lost.status(), "Ready").getReason()).isEqualTo("NoPrimary");
    assertThat(condition(lost.status(), "Degraded").getReason()).isEqualTo("InstancesUnavailable");
    assertThat(lost.events()).extracting(StatusEvent::reason).containsExactlyInAnyOrder("LinkDown", "NotReady");

    StatusUpdate promoted = StatusAggregator.aggregate(lost.status(), 1, desired, Map.of(
        "198.18.0.1:27545", new Observation(false, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, PRIMARY_TL2)), HASH, List.of(), T1.plusSeconds(1));
    assertThat(promoted.status().getPrimary()).isEqualTo("198.18.0.2");
    assertThat(promoted.status().getInstances().get(1).getTimeline()).isEqualTo(2L);
    assertThat(promoted.events()).extracting(StatusEvent::reason).containsExactlyInAnyOrder("RoleChanged", "Ready");
    assertThat(promoted.events()).filteredOn(e -> e.reason().equals("RoleChanged")).singleElement()
        .satisfies(e -> assertThat(e.message()).isEqualTo("198.18.0.2 is now primary (was standby), timeline 2"));
    // Degraded stayed True through both steps: its transition time is the first one.
    assertThat(condition(promoted.status(), "Degraded").getLastTransitionTime()).isEqualTo("2026-11-27T13:05:00Z");
  }

  @Test
  void firstRolesAfterLinksComeUpAreNotRoleChanges() {
    InstanceSetStatus connecting = StatusAggregator.aggregate(null, 1, desired, Map.of(), HASH, List.of(), T0).status();
    StatusUpdate up = StatusAggregator.aggregate(connecting, 1, desired, Map.of(
        "198.18.0.1:27545", new Observation(true, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, STANDBY_TL1)), HASH, List.of(), T1);
    assertThat(up.events()).extracting(StatusEvent::reason).containsExactly("LinkUp", "LinkUp", "Ready");
  }

  @Test
  void sameObservationsGiveAnEqualStatusAndNoEvents() {
    Map<String, Observation> obs = Map.of(
        "198.18.0.1:27545", new Observation(true, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, STANDBY_TL1));
    InstanceSetStatus first = StatusAggregator.aggregate(null, 1, desired, obs, HASH, List.of(), T0).status();
    StatusUpdate again = StatusAggregator.aggregate(first, 1, desired, obs, HASH, List.of(), T1);
    assertThat(again.status()).isEqualTo(first);
    assertThat(again.events()).isEmpty();
  }

  @Test
  void twoPrimariesOnTheSameTimelineAreSplitBrainButANewerTimelineWins() {
    StatusUpdate same = StatusAggregator.aggregate(null, 1, desired, Map.of(
        "198.18.0.1:27545", new Observation(true, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, PRIMARY_TL1)), HASH, List.of(), T0);
    assertThat(condition(same.status(), "Ready").getReason()).isEqualTo("SplitBrain");
    assertThat(same.status().getPrimary()).isNull();

    StatusUpdate newer = StatusAggregator.aggregate(null, 1, desired, Map.of(
        "198.18.0.1:27545", new Observation(true, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, PRIMARY_TL2)), HASH, List.of(), T0);
    assertThat(newer.status().getPrimary()).isEqualTo("198.18.0.2");
    assertThat(condition(newer.status(), "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(newer.status(), "Degraded").getReason()).isEqualTo("SplitBrain");
  }

  @Test
  void watchdogUpButPostgresDownIsUnknownAndDegraded() {
    StatusUpdate u = StatusAggregator.aggregate(null, 1, desired, Map.of(
        "198.18.0.1:27545", new Observation(true, Attributes.UNREACHABLE),
        "198.18.0.2:27545", new Observation(true, STANDBY_TL1)), HASH, List.of(), T0);
    assertThat(u.status().getInstances().get(0).getRole()).isEqualTo(Role.UNKNOWN);
    assertThat(u.status().getInstances().get(0).getReachable()).isFalse();
    assertThat(condition(u.status(), "Degraded").getMessage()).contains("198.18.0.1");
  }

  @Test
  void invalidSpecIsNotReadyWithTheValidatorsMessageAndOneWarningEvent() {
    Map<String, Observation> obs = Map.of(
        "198.18.0.1:27545", new Observation(true, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, STANDBY_TL1));
    InstanceSetStatus healthy = StatusAggregator.aggregate(null, 1, desired, obs, HASH, List.of(), T0).status();
    InstanceSet broken = set();
    broken.getSpec().getConmgr().getListeners().add(new ListenerSpec(27546, SessionTarget.ANY));
    DesiredConfig invalid = DesiredConfig.of(broken, List.of());
    assertThat(invalid.isValid()).isFalse();

    StatusUpdate u = StatusAggregator.aggregate(healthy, 2, invalid, obs, HASH, List.of(), T1);
    assertThat(condition(u.status(), "Ready")).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getReason()).isEqualTo("InvalidSpec");
      assertThat(c.getMessage()).contains("listener_port0 = 27546 is already used by port");
    });
    assertThat(u.events()).extracting(StatusEvent::reason).containsExactlyInAnyOrder("NotReady", "InvalidSpec");
    assertThat(u.status().getConmgrConfHash()).as("the last good file's hash").isEqualTo(HASH);

    StatusUpdate again = StatusAggregator.aggregate(u.status(), 2, invalid, obs, HASH, List.of(), T1.plusSeconds(1));
    assertThat(again.events()).as("told once").isEmpty();
  }

  @Test
  void podsWithAnOlderConmgrConfAreCountedAndToldOnceWhenTheyAppear() {
    Map<String, Observation> obs = Map.of(
        "198.18.0.1:27545", new Observation(true, PRIMARY_TL1),
        "198.18.0.2:27545", new Observation(true, STANDBY_TL1));
    InstanceSetStatus current = StatusAggregator.aggregate(null, 1, desired, obs, HASH, List.of(), T0).status();
    assertThat(current.getStaleConmgrPods()).isZero();

    List<String> stale = List.of("web-1", "web-2", "web-3", "web-4", "web-5", "web-6");
    StatusUpdate changed = StatusAggregator.aggregate(current, 2, desired, obs, "fedcba9876543210", stale, T1);
    assertThat(changed.status().getConmgrConfHash()).isEqualTo("fedcba9876543210");
    assertThat(changed.status().getStaleConmgrPods()).isEqualTo(6);
    assertThat(changed.events()).singleElement().satisfies(e -> {
      assertThat(e.reason()).isEqualTo("ConmgrConfStale");
      assertThat(e.type()).isEqualTo("Warning");
      assertThat(e.message()).startsWith("6 pod(s) run conmgr with an older conmgr.conf")
          .contains("rollout restart").endsWith("web-1, web-2, web-3, web-4, web-5, ...");
    });

    StatusUpdate fewer = StatusAggregator.aggregate(changed.status(), 2, desired, obs, "fedcba9876543210",
        stale.subList(0, 2), T1.plusSeconds(1));
    assertThat(fewer.status().getStaleConmgrPods()).isEqualTo(2);
    assertThat(fewer.events()).as("pods restarting one by one raise no new event").isEmpty();
  }

  private static Condition condition(InstanceSetStatus s, String type) {
    return s.getConditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  private static InstanceSet set() {
    InstanceSet set = new InstanceSet();
    set.getMetadata().setName("orders-db");
    set.getMetadata().setNamespace("shop");
    InstanceSetSpec spec = new InstanceSetSpec();
    spec.getInstances().add(new InstanceSpec(null, "198.18.0.1", 5432, 27545));
    spec.getInstances().add(new InstanceSpec(null, "198.18.0.2", 5432, 27545));
    set.setSpec(spec);
    return set;
  }
}
