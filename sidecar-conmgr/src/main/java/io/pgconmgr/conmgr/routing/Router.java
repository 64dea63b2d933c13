package io.pgconmgr.conmgr.routing;

import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Picks an instance for a client and binds the client to it in one step, so that concurrent
 * decisions see each other's load (least connections, ties round-robin).
 */
public final class Router {

  private final InstanceTable table;
  private final ClientRegistry registry;
  private long turn;
  /** The snapshot {@link #candidatesByTarget} were worked out from, compared by identity. */
  private List<InstanceState> candidatesOf;
  private final Map<TargetSessionAttrs, List<InstanceState>> candidatesByTarget = new EnumMap<>(TargetSessionAttrs.class);

  public Router(InstanceTable table, ClientRegistry registry) {
    this.table = table;
    this.registry = registry;
  }

  public InstanceTable table() {
    return table;
  }

  public ClientRegistry registry() {
    return registry;
  }

  /**
   * Routes a client: picks among the instances matching {@code target}, skipping {@code exclude}
   * (instances that just refused a connection), and binds {@code client} to the one chosen.
   */
  public synchronized Optional<ClientRegistry.Lease> route(
      TargetSessionAttrs target, Set<Integer> exclude, ClientRegistry.Client client) {
    List<InstanceState> candidates = candidates(target);
    if (!exclude.isEmpty()) {
      candidates = candidates.stream().filter(s -> !exclude.contains(s.number())).toList();
    }
    if (candidates.isEmpty()) {
      return Optional.empty();
    }
    InstanceState chosen = RoutingPolicy.choose(candidates, s -> registry.count(s.number()), turn++);
    return Optional.of(registry.add(chosen, client));
  }

  /**
   * {@link RoutingPolicy#candidates}, worked out once per table snapshot and target: the table
   * changes on heartbeat events, clients connect far more often. Called under the routing lock.
   */
  private List<InstanceState> candidates(TargetSessionAttrs target) {
    List<InstanceState> snapshot = table.snapshot();
    if (snapshot != candidatesOf) {
      candidatesByTarget.clear();
      candidatesOf = snapshot;
    }
    return candidatesByTarget.computeIfAbsent(target, t -> RoutingPolicy.candidates(t, snapshot));
  }

  /**
   * Fails every client bound to {@code instance} (its link is lost, or it is a stale primary).
   * Under the routing lock: a decision taken on the row before it changed has then bound its
   * client already and is failed here too, instead of leaving it on a dead instance.
   */
  public synchronized int failAll(InstanceState instance, String reason) {
    return registry.failAll(instance, reason);
  }

  /** Why {@link #route} finds nothing for {@code target} now. */
  public String explain(TargetSessionAttrs target) {
    return RoutingPolicy.explain(target, table.snapshot());
  }
}
