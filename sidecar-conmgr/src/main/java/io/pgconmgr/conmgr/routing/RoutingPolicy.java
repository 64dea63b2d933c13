package io.pgconmgr.conmgr.routing;

import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * Which instances may serve a {@code target_session_attrs} value, and which one of them to pick.
 * Pure functions over a table snapshot (docs/conmgr.md, "Routing").
 *
 * <p>Split brain: when several instances claim to be primary, only those on the newest timeline
 * count; an older-timeline claimant (a former primary that kept running) is left out of every
 * target. If several claimants share the newest timeline (or a timeline is unknown), none of them
 * is used for read-write/primary targets, since writing to either would fork the data.
 */
public final class RoutingPolicy {

  private RoutingPolicy() {
  }

  /** The primaries picture of one snapshot. */
  public record PrimaryView(List<InstanceState> claimants, List<InstanceState> stale, boolean ambiguous) {
    /** More than one instance claims to be primary. */
    public boolean splitBrain() {
      return claimants.size() > 1;
    }

    boolean isStale(InstanceState s) {
      return stale.stream().anyMatch(x -> x.number() == s.number());
    }
  }

  public static PrimaryView primaries(List<InstanceState> snapshot) {
    List<InstanceState> claimants = snapshot.stream().filter(InstanceState::claimsPrimary).toList();
    if (claimants.size() < 2) {
      return new PrimaryView(claimants, List.of(), false);
    }
    boolean unknownTimeline = claimants.stream().anyMatch(s -> s.attributes().timeline() <= 0);
    long newest = claimants.stream().mapToLong(s -> s.attributes().timeline()).max().orElse(0);
    List<InstanceState> stale = unknownTimeline ? List.of()
        : claimants.stream().filter(s -> s.attributes().timeline() < newest).toList();
    long onNewest = claimants.stream().filter(s -> s.attributes().timeline() == newest).count();
    return new PrimaryView(claimants, stale, unknownTimeline || onNewest > 1);
  }

  /** Every instance that may serve {@code target}, in table order. */
  public static List<InstanceState> candidates(TargetSessionAttrs target, List<InstanceState> snapshot) {
    PrimaryView view = primaries(snapshot);
    List<InstanceState> usable = snapshot.stream()
        .filter(InstanceState::usable)
        .filter(s -> !view.isStale(s))
        .toList();
    return switch (target) {
      case ANY -> usable;
      case READ_WRITE -> view.ambiguous() ? List.of()
          : usable.stream().filter(s -> s.attributes().isWritable()).toList();
      case PRIMARY -> view.ambiguous() ? List.of()
          : usable.stream().filter(s -> !s.attributes().inRecovery()).toList();
      case READ_ONLY -> usable.stream()
          .filter(s -> s.attributes().inRecovery() || s.attributes().defaultTransactionReadOnly()).toList();
      case STANDBY -> usable.stream().filter(s -> s.attributes().inRecovery()).toList();
      case PREFER_STANDBY -> {
        List<InstanceState> standbys = candidates(TargetSessionAttrs.STANDBY, snapshot);
        yield standbys.isEmpty() ? usable : standbys;
      }
      case PREFER_PRIMARY -> {
        List<InstanceState> primaries = candidates(TargetSessionAttrs.PRIMARY, snapshot);
        yield primaries.isEmpty() ? usable : primaries;
      }
    };
  }

  /**
   * Least active client connections of this conmgr; ties are broken round-robin by
   * {@code turn} (a counter the caller increments per decision), so equal instances take turns.
   */
  public static InstanceState choose(List<InstanceState> candidates, ToIntFunction<InstanceState> load, long turn) {
    if (candidates.isEmpty()) {
      throw new IllegalArgumentException("no candidates");
    }
    // Each load is read once: counts change under our feet (clients close on other threads), and
    // reading twice could leave no instance at the minimum.
    int least = Integer.MAX_VALUE;
    List<InstanceState> tied = new ArrayList<>(candidates.size());
    for (InstanceState s : candidates) {
      int l = load.applyAsInt(s);
      if (l < least) {
        least = l;
        tied.clear();
      }
      if (l == least) {
        tied.add(s);
      }
    }
    tied.sort(Comparator.comparingInt(InstanceState::number));
    return tied.get((int) Math.floorMod(turn, (long) tied.size()));
  }

  /** Why nothing matches {@code target}: one clause per instance, for logs and ErrorResponses. */
  public static String explain(TargetSessionAttrs target, List<InstanceState> snapshot) {
    if (snapshot.isEmpty()) {
      return "no instances are configured";
    }
    PrimaryView view = primaries(snapshot);
    String perInstance = snapshot.stream().map(s -> "instance " + s.label() + ": " + describe(s, view))
        .collect(Collectors.joining("; "));
    String split = view.ambiguous() && view.splitBrain()
        ? "split brain: several instances claim to be primary on the same or an unknown timeline; " : "";
    return split + perInstance;
  }

  private static String describe(InstanceState s, PrimaryView view) {
    if (s.link() != LinkState.UP) {
      return "heartbeat link " + s.link().label() + " (" + s.reason() + ")";
    }
    if (s.attributes() == null) {
      return "no attributes yet";
    }
    if (!s.attributes().reachable()) {
      return "watchdog reports PostgreSQL not answering";
    }
    if (view.isStale(s)) {
      return "primary on older timeline " + s.attributes().timeline() + " (split brain, not used)";
    }
    if (s.attributes().inRecovery()) {
      return "standby";
    }
    return s.attributes().defaultTransactionReadOnly() ? "read-only primary" : "primary";
  }
}
