package io.pgconmgr.operator.model;

import io.fabric8.kubernetes.api.model.Pod;
import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.InstanceSpec;
import io.pgconmgr.operator.crd.PostgresSelector;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** Resolves an InstanceSet's instances: the listed ones first, then the selected pods that have an IP. */
public final class SetInstances {

  private SetInstances() {
  }

  /**
   * The instances in conmgr.conf order. Listed instances keep their position (numbers 0..n-1); selected
   * pods follow ordered by name, so a pod keeps its number while the set of pods is stable.
   *
   * @param pods the pods of the InstanceSet's namespace; those the selector does not match are ignored
   */
  public static List<SetInstance> resolve(InstanceSetSpec spec, Collection<Pod> pods) {
    List<SetInstance> result = new ArrayList<>();
    int number = 0;
    for (InstanceSpec i : spec.getInstances()) {
      String name = i.getHostaddr() != null ? i.getHostaddr() : i.getHost();
      result.add(new SetInstance(number++, name, i.getHost(), i.getHostaddr(), i.getPort(), i.getWatchdogPort()));
    }
    PostgresSelector selector = spec.getPostgresSelector();
    if (selector == null) {
      return List.copyOf(result);
    }
    List<Pod> members = pods.stream()
        .filter(p -> selects(selector, p) && isServing(p))
        .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
        .toList();
    for (Pod pod : members) {
      result.add(new SetInstance(number++, pod.getMetadata().getName(), stableDnsName(pod),
          pod.getStatus().getPodIP(), selector.getPort(), spec.getWatchdog().getPort()));
    }
    return List.copyOf(result);
  }

  /** True when the pod carries every label of the selector. */
  public static boolean selects(PostgresSelector selector, Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    if (selector.getMatchLabels().isEmpty() || labels == null) {
      return false;
    }
    return selector.getMatchLabels().entrySet().stream()
        .allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  /** A pod counts once it has an IP and until it is being deleted or has ended. */
  private static boolean isServing(Pod pod) {
    if (pod.getMetadata().getDeletionTimestamp() != null || pod.getStatus() == null) {
      return false;
    }
    String phase = pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return false;
    }
    String ip = pod.getStatus().getPodIP();
    return ip != null && !ip.isBlank();
  }

  /**
   * The pod's DNS name behind a headless Service (StatefulSet pods), which survives a new IP; null
   * when the pod has no hostname and subdomain. The IP is written as hostaddr and wins while valid.
   */
  private static String stableDnsName(Pod pod) {
    var spec = pod.getSpec();
    if (spec == null || spec.getHostname() == null || spec.getSubdomain() == null) {
      return null;
    }
    return spec.getHostname() + "." + spec.getSubdomain() + "." + pod.getMetadata().getNamespace() + ".svc";
  }
}
