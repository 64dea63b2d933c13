package io.pgconmgr.operator.model;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Finds the application pods whose conmgr runs an older conmgr.conf than the set's current one. */
public final class ConmgrPods {

  private ConmgrPods() {
  }

  /**
   * The names, sorted, of the running pods the webhook gave this set's conmgr with another hash than
   * {@code currentHash} (or none: injected before the ConfigMap had content, so the file they mounted is unknown).
   */
  public static List<String> stale(String setName, String currentHash, Collection<Pod> pods) {
    return pods.stream()
        .filter(p -> setName.equals(labels(p).get(InstanceSetResources.INJECT_LABEL)))
        .filter(p -> List.of(annotations(p).getOrDefault(InstanceSetResources.INJECTED_ANNOTATION, "").split(","))
            .contains("conmgr:" + setName))
        .filter(ConmgrPods::isRunning)
        .filter(p -> !currentHash.equals(annotations(p).get(InstanceSetResources.CONMGR_CONF_HASH_ANNOTATION)))
        .map(p -> p.getMetadata().getName())
        .sorted()
        .toList();
  }

  private static boolean isRunning(Pod pod) {
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      return false;
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  private static Map<String, String> labels(Pod pod) {
    return Optional.ofNullable(pod.getMetadata().getLabels()).orElse(Map.of());
  }

  private static Map<String, String> annotations(Pod pod) {
    return Optional.ofNullable(pod.getMetadata().getAnnotations()).orElse(Map.of());
  }
}
