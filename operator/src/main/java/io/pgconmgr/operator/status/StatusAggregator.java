package io.pgconmgr.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.pgconmgr.operator.EventRecorder;
import io.pgconmgr.operator.crd.InstanceSetStatus;
import io.pgconmgr.operator.crd.InstanceStatus;
import io.pgconmgr.operator.crd.InstanceStatus.Link;
import io.pgconmgr.operator.crd.InstanceStatus.Role;
import io.pgconmgr.operator.model.DesiredConfig;
import io.pgconmgr.operator.model.SetInstance;
import io.pgconmgr.protocol.conf.ConfProblem;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Turns the desired config and the watchdogs' observations into the InstanceSet status, and the
 * previous status into the events worth telling (role changes, lost and restored links). Pure: the
 * same inputs give the same status, and a condition keeps its lastTransitionTime while its status holds.
 */
public final class StatusAggregator {
  public static final String READY = "Ready";
  public static final String DEGRADED = "Degraded";

  private StatusAggregator() {
  }

  /** Pods named in the ConmgrConfStale event at most; the status counts them all. */
  static final int STALE_PODS_NAMED = 5;

  /**
   * @param conmgrConfHash hash of the conmgr.conf in the ConfigMap; null before there is one
   * @param stalePods      running pods whose conmgr started with another conmgr.conf, sorted
   */
  public static StatusUpdate aggregate(InstanceSetStatus previous, long generation, DesiredConfig desired,
      Map<String, Observation> observations, String conmgrConfHash, List<String> stalePods, Instant now) {
    InstanceSetStatus prev = previous != null ? previous : new InstanceSetStatus();
    List<InstanceStatus> instances = desired.instances().stream()
        .map(i -> instanceStatus(i, observations.getOrDefault(InstanceObserver.key(i), Observation.NONE)))
        .toList();
    List<StatusEvent> events = events(prev.getInstances(), instances);

    InstanceSetStatus status = new InstanceSetStatus();
    status.setObservedGeneration(generation);
    status.setInstances(new ArrayList<>(instances));
    status.setConmgrConfHash(conmgrConfHash);
    status.setStaleConmgrPods(conmgrConfHash == null ? null : stalePods.size());

    List<InstanceStatus> primaries = instances.stream().filter(i -> i.getRole() == Role.PRIMARY).toList();
    long newestTimeline = primaries.stream().mapToLong(i -> Objects.requireNonNullElse(i.getTimeline(), 0L)).max().orElse(0);
    List<InstanceStatus> newest = primaries.stream()
        .filter(i -> Objects.requireNonNullElse(i.getTimeline(), 0L) == newestTimeline).toList();
    List<InstanceStatus> unavailable = instances.stream()
        .filter(i -> i.getLink() != Link.UP || !Boolean.TRUE.equals(i.getReachable())).toList();

    Verdict ready;
    Verdict degraded;
    if (!desired.isValid() && !desired.instances().isEmpty()) {
      String why = desired.errors().stream().map(ConfProblem::message).collect(Collectors.joining("; "));
      ready = new Verdict(false, "InvalidSpec", "conmgr.conf cannot be rendered: " + why);
      degraded = new Verdict(true, "InvalidSpec", ready.message);
    } else if (instances.isEmpty()) {
      ready = new Verdict(false, "NoInstances", "no instance listed and no running pod matches postgresSelector");
      degraded = new Verdict(true, "NoInstances", ready.message);
    } else {
      if (newest.size() == 1) {
        InstanceStatus p = newest.get(0);
        ready = new Verdict(true, "PrimaryAvailable", "primary " + p.getName() + " on timeline " + p.getTimeline());
      } else if (newest.size() > 1) {
        ready = new Verdict(false, "SplitBrain", "instances " + names(newest) + " all claim to be primary on timeline "
            + newestTimeline);
      } else {
        ready = new Verdict(false, "NoPrimary", "no instance reports itself as primary");
      }
      if (primaries.size() > 1) {
        degraded = new Verdict(true, "SplitBrain", "instances " + names(primaries) + " claim to be primary");
      } else if (!unavailable.isEmpty()) {
        degraded = new Verdict(true, "InstancesUnavailable", "not reachable through their watchdogs: " + names(unavailable));
      } else {
        degraded = new Verdict(false, "AllInstancesAvailable", "every instance's watchdog reports it reachable");
      }
    }
    status.setPrimary(newest.size() == 1 ? newest.get(0).getName() : null);
    status.setConditions(new ArrayList<>(List.of(
        condition(prev, READY, ready, generation, now),
        condition(prev, DEGRADED, degraded, generation, now))));
    if (!Objects.equals(find(prev, READY).map(Condition::getStatus), find(status, READY).map(Condition::getStatus))) {
      events.add(new StatusEvent(ready.status ? EventRecorder.NORMAL : EventRecorder.WARNING,
          ready.status ? "Ready" : "NotReady", ready.message));
    }
    if (ready.reason.equals("InvalidSpec") && !find(prev, READY).map(Condition::getReason).equals(Optional.of("InvalidSpec"))) {
      events.add(new StatusEvent(EventRecorder.WARNING, "InvalidSpec", ready.message
          + "; the last valid conmgr.conf stays in place"));
    }
    if (!stalePods.isEmpty() && Objects.requireNonNullElse(prev.getStaleConmgrPods(), 0) == 0) {
      String named = String.join(", ", stalePods.subList(0, Math.min(STALE_PODS_NAMED, stalePods.size())))
          + (stalePods.size() > STALE_PODS_NAMED ? ", ..." : "");
      events.add(new StatusEvent(EventRecorder.WARNING, "ConmgrConfStale", stalePods.size()
          + " pod(s) run conmgr with an older conmgr.conf, which conmgr reads only at start: restart them to use "
          + "the current one (e.g. kubectl rollout restart deployment/<name>): " + named));
    }
    return new StatusUpdate(status, List.copyOf(events));
  }

  private static InstanceStatus instanceStatus(SetInstance instance, Observation observation) {
    InstanceStatus s = new InstanceStatus();
    s.setName(instance.name());
    s.setAddress(instance.address());
    s.setPort(instance.port());
    s.setLink(observation.linkUp() ? Link.UP : Link.DOWN);
    Attributes a = observation.attributes();
    boolean known = observation.linkUp() && a != null && a.reachable();
    s.setReachable(observation.linkUp() && a != null ? a.reachable() : null);
    s.setRole(!known ? Role.UNKNOWN : a.inRecovery() ? Role.STANDBY : Role.PRIMARY);
    s.setTimeline(known && a.timeline() > 0 ? a.timeline() : null);
    return s;
  }

  /** Compares each instance with its previous entry (by name); a new instance raises no event. */
  private static List<StatusEvent> events(List<InstanceStatus> before, List<InstanceStatus> after) {
    Map<String, InstanceStatus> old = before.stream()
        .collect(Collectors.toMap(InstanceStatus::getName, Function.identity(), (a, b) -> a));
    List<StatusEvent> events = new ArrayList<>();
    for (InstanceStatus now : after) {
      InstanceStatus was = old.get(now.getName());
      if (was == null) {
        continue;
      }
      if (was.getLink() == Link.UP && now.getLink() == Link.DOWN) {
        events.add(new StatusEvent(EventRecorder.WARNING, "LinkDown", "lost the heartbeat link with the watchdog of "
            + where(now)));
      } else if (was.getLink() == Link.DOWN && now.getLink() == Link.UP) {
        events.add(new StatusEvent(EventRecorder.NORMAL, "LinkUp", "heartbeat link with the watchdog of "
            + where(now) + " is up"));
      }
      // Between known roles only: unknown -> standby after an outage is told by LinkUp and Ready.
      if (now.getRole() != Role.UNKNOWN && was.getRole() != Role.UNKNOWN && was.getRole() != now.getRole()) {
        events.add(new StatusEvent(now.getRole() == Role.PRIMARY ? EventRecorder.WARNING : EventRecorder.NORMAL,
            "RoleChanged", now.getName() + " is now " + role(now.getRole()) + " (was " + role(was.getRole())
            + ")" + (now.getTimeline() != null ? ", timeline " + now.getTimeline() : "")));
      } else if (now.getRole() == Role.UNKNOWN && was.getRole() != Role.UNKNOWN && now.getLink() == Link.UP) {
        events.add(new StatusEvent(EventRecorder.WARNING, "InstanceUnreachable", "the watchdog of " + now.getName()
            + " reports PostgreSQL not answering (was " + role(was.getRole()) + ")"));
      }
    }
    return events;
  }

  /** The instance's name, with its address when that says more. */
  private static String where(InstanceStatus i) {
    return i.getName().equals(i.getAddress()) ? i.getName() : i.getName() + " (" + i.getAddress() + ")";
  }

  private static Condition condition(InstanceSetStatus previous, String type, Verdict verdict, long generation, Instant now) {
    String status = verdict.status ? "True" : "False";
    String since = find(previous, type).filter(c -> status.equals(c.getStatus())).map(Condition::getLastTransitionTime)
        .orElse(now.truncatedTo(ChronoUnit.SECONDS).toString());
    return new ConditionBuilder().withType(type).withStatus(status).withReason(verdict.reason)
        .withMessage(verdict.message).withObservedGeneration(generation).withLastTransitionTime(since).build();
  }

  private static Optional<Condition> find(InstanceSetStatus status, String type) {
    return status.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  private static String names(List<InstanceStatus> instances) {
    return instances.stream().map(InstanceStatus::getName).sorted(Comparator.naturalOrder())
        .collect(Collectors.joining(", "));
  }

  private static String role(Role role) {
    return role.name().toLowerCase(java.util.Locale.ROOT);
  }

  private record Verdict(boolean status, String reason, String message) {
  }
}
