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

/**
 * Resolves an InstanceSet's instances: the listed ones first, then the selected pods, by their stable
 * DNS name where they have one (StatefulSet pods), else by their IP.
 */
public final class SetInstances {

  private SetInstances() {
  }

  /** Pod names ordered by their StatefulSet ordinal (pg-2 before pg-10), other names alphabetically. */
  static final Comparator<String> BY_ORDINAL = Comparator.comparing(SetInstances::ordinalPrefix)
      .thenComparingLong(SetInstances::ordinal)
      .thenComparing(Comparator.naturalOrder());

  /**
   * The instances in conmgr.conf order. Listed instances keep their position (numbers 0..n-1); selected
   * pods follow ordered by name and ordinal, never by IP, so a pod keeps its number while the set of pods
   * is stable. A pod with a stable DNS name is rendered by that name alone: a rescheduled pod (new IP)
   * renders the same conmgr.conf, and conmgr finds it by resolving the name again at reconnect.
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
        .filter(p -> selects(selector, p) && isMember(p))
        .sorted(Comparator.comparing(p -> p.getMetadata().getName(), BY_ORDINAL))
        .toList();
    for (Pod pod : members) {
      String dnsName = stableDnsName(pod);
      result.add(new SetInstance(number++, pod.getMetadata().getName(), dnsName,
          dnsName == null ? pod.getStatus().getPodIP() : null, selector.getPort(), spec.getWatchdog().getPort()));
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

  /**
   * A pod with a stable DNS name counts from its creation until it has ended, also while it waits for
   * an IP or is being deleted: a StatefulSet pod that is rescheduled comes back under the same name, so
   * conmgr.conf need not change on the way. A pod known by its IP counts only while it has one and is
   * not being deleted.
   */
  private static boolean isMember(Pod pod) {
    if (pod.getStatus() == null) {
      return false;
    }
    String phase = pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return false;
    }
    if (stableDnsName(pod) != null) {
      return true;
    }
    String ip = pod.getStatus().getPodIP();
    return pod.getMetadata().getDeletionTimestamp() == null && ip != null && !ip.isBlank();
  }

  /**
   * The pod's DNS name under the Service its subdomain names (StatefulSet pods), which survives a new
   * IP; null when the pod has no hostname and subdomain. It ends in {@code .svc}, not in the cluster domain:
   * every pod's resolver search path ({@code svc.<cluster domain>}) completes it, whatever that domain
   * is, so the name works in clusters not called cluster.local without any setting.
   */
  private static String stableDnsName(Pod pod) {
    var spec = pod.getSpec();
    if (spec == null || isBlank(spec.getHostname()) || isBlank(spec.getSubdomain())) {
      return null;
    }
    return spec.getHostname() + "." + spec.getSubdomain() + "." + pod.getMetadata().getNamespace() + ".svc";
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  /** The name without its trailing digits: the StatefulSet's name and dash for its pods. */
  private static String ordinalPrefix(String name) {
    int end = name.length();
    while (end > 0 && Character.isDigit(name.charAt(end - 1))) {
      end--;
    }
    return name.substring(0, end);
  }

  /** The trailing number of the name (the StatefulSet ordinal), -1 without one. */
  private static long ordinal(String name) {
    String digits = name.substring(ordinalPrefix(name).length());
    if (digits.isEmpty() || digits.length() > 18) {
      return -1;
    }
    return Long.parseLong(digits);
  }
}
