package io.pgconmgr.operator.webhook;

import static io.pgconmgr.operator.model.InstanceSetResources.CONMGR_CONF_HASH_ANNOTATION;
import static io.pgconmgr.operator.model.InstanceSetResources.CONMGR_CONTAINER;
import static io.pgconmgr.operator.model.InstanceSetResources.INJECTED_ANNOTATION;
import static io.pgconmgr.operator.model.InstanceSetResources.INJECT_LABEL;
import static io.pgconmgr.operator.model.InstanceSetResources.WATCHDOG_CONTAINER;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.SetInstances;
import io.pgconmgr.operator.model.SidecarImages;
import io.pgconmgr.operator.model.Sidecars;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Decides, without any I/O, which sidecars a pod being created gets: conmgr when it carries
 * {@code pgconmgr.io/inject=<InstanceSet>}, the watchdog when an InstanceSet's postgresSelector selects
 * it. Returns the JSON Patch, or the reasons the pod is left alone.
 */
public final class Injector {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private Injector() {
  }

  /**
   * @param pod       the pod as submitted (its namespace may be empty: use {@code namespace})
   * @param namespace the namespace of the admission request
   * @param sets      the InstanceSets of that namespace
   * @param images    the operator's sidecar images, for sets whose spec.images leaves one out
   */
  public static InjectionResult inject(Pod pod, String namespace, Collection<InstanceSet> sets, SidecarImages images) {
    Map<String, String> labels = Optional.ofNullable(pod.getMetadata().getLabels()).orElse(Map.of());
    String wanted = labels.get(INJECT_LABEL);
    List<InstanceSet> selecting = sets.stream()
        .filter(s -> namespace.equals(s.getMetadata().getNamespace()))
        .filter(s -> s.getSpec().getPostgresSelector() != null)
        .filter(s -> SetInstances.selects(s.getSpec().getPostgresSelector(), pod))
        .toList();
    if (wanted == null && selecting.isEmpty()) {
      return new InjectionResult.Skipped(
          List.of("no " + INJECT_LABEL + " label and no InstanceSet's postgresSelector matches the pod"), false);
    }
    String done = annotation(pod, INJECTED_ANNOTATION);
    if (done != null || hasContainer(pod, CONMGR_CONTAINER) || hasContainer(pod, WATCHDOG_CONTAINER)) {
      return new InjectionResult.Skipped(List.of("already injected (" + INJECTED_ANNOTATION + "="
          + Objects.requireNonNullElse(done, "<sidecar container present>") + ")"), false);
    }

    List<String> reasons = new ArrayList<>();
    List<String> summary = new ArrayList<>();
    PatchBuilder patch = new PatchBuilder(pod);
    if (wanted != null) {
      Optional<InstanceSet> set = sets.stream()
          .filter(s -> namespace.equals(s.getMetadata().getNamespace()) && wanted.equals(s.getMetadata().getName()))
          .findFirst();
      if (set.isEmpty()) {
        reasons.add("label " + INJECT_LABEL + "=" + wanted + " names no InstanceSet in namespace " + namespace);
      } else {
        injectConmgr(patch, pod, set.get(), images);
        summary.add("conmgr:" + wanted);
      }
    }
    if (selecting.size() > 1) {
      reasons.add("selected as a PostgreSQL pod by several InstanceSets ("
          + String.join(", ", selecting.stream().map(s -> s.getMetadata().getName()).toList())
          + "); a pod runs one watchdog, so none was injected");
    } else if (selecting.size() == 1) {
      InstanceSet set = selecting.get(0);
      Optional<String> problem = injectWatchdog(patch, pod, set, images);
      if (problem.isPresent()) {
        reasons.add(problem.get());
      } else {
        summary.add("watchdog:" + set.getMetadata().getName());
      }
    }
    if (summary.isEmpty()) {
      return new InjectionResult.Skipped(List.copyOf(reasons), true);
    }
    patch.annotate(INJECTED_ANNOTATION, String.join(",", summary));
    return new InjectionResult.Patched(patch.ops(), List.copyOf(summary));
  }

  private static void injectConmgr(PatchBuilder patch, Pod pod, InstanceSet set, SidecarImages images) {
    patch.prependInitContainer(Sidecars.conmgr(set, images));
    patch.addVolumes(Sidecars.conmgrVolumes(set));
    // The conmgr.conf this pod will read at start, so the operator can tell when it is outdated.
    String hash = set.getStatus() != null ? set.getStatus().getConmgrConfHash() : null;
    if (hash != null) {
      patch.annotate(CONMGR_CONF_HASH_ANNOTATION, hash);
    }
    if (Boolean.TRUE.equals(set.getSpec().getInjection().getSetPgEnv())) {
      List<Container> containers = pod.getSpec().getContainers();
      for (int i = 0; i < containers.size(); i++) {
        patch.addEnvUnlessSet(i, containers.get(i), Sidecars.pgEnv(set));
      }
    }
  }

  private static Optional<String> injectWatchdog(PatchBuilder patch, Pod pod, InstanceSet set, SidecarImages images) {
    List<Container> containers = pod.getSpec().getContainers();
    String wantedName = set.getSpec().getPostgresSelector().getContainerName();
    int pg = 0;
    if (wantedName != null) {
      pg = -1;
      for (int i = 0; i < containers.size(); i++) {
        if (wantedName.equals(containers.get(i).getName())) {
          pg = i;
        }
      }
      if (pg < 0) {
        return Optional.of("InstanceSet " + set.getMetadata().getName() + " selects this pod but it has no container "
            + wantedName + " (postgresSelector.containerName) to share the watchdog's volume with");
      }
    }
    patch.prependInitContainer(Sidecars.watchdog(set, images));
    patch.addVolumes(Sidecars.watchdogVolumes(set));
    patch.addVolumeMount(pg, containers.get(pg), Sidecars.runMount());
    return Optional.empty();
  }

  private static String annotation(Pod pod, String key) {
    Map<String, String> a = pod.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }

  private static boolean hasContainer(Pod pod, String name) {
    return Stream.concat(pod.getSpec().getContainers().stream(),
            Optional.ofNullable(pod.getSpec().getInitContainers()).orElse(List.of()).stream())
        .anyMatch(c -> name.equals(c.getName()));
  }

  /** Accumulates RFC 6902 operations, tracking which arrays and maps the patch itself created. */
  private static final class PatchBuilder {
    private static final ObjectMapper MAPPER = Serialization.jsonMapper();
    private final ArrayNode ops = JSON.arrayNode();
    private boolean hasInitContainers;
    private boolean hasVolumes;
    private boolean hasAnnotations;

    PatchBuilder(Pod pod) {
      hasInitContainers = pod.getSpec().getInitContainers() != null && !pod.getSpec().getInitContainers().isEmpty();
      hasVolumes = pod.getSpec().getVolumes() != null && !pod.getSpec().getVolumes().isEmpty();
      // Fabric8 turns an absent map into an empty one, and an empty map is absent in the JSON sent.
      hasAnnotations = pod.getMetadata().getAnnotations() != null && !pod.getMetadata().getAnnotations().isEmpty();
    }

    /** Sidecars go first so they also serve the pod's other init containers. */
    void prependInitContainer(Container c) {
      if (hasInitContainers) {
        add("/spec/initContainers/0", tree(c));
      } else {
        add("/spec/initContainers", JSON.arrayNode().add(tree(c)));
        hasInitContainers = true;
      }
    }

    void addVolumes(List<Volume> volumes) {
      for (Volume v : volumes) {
        if (hasVolumes) {
          add("/spec/volumes/-", tree(v));
        } else {
          add("/spec/volumes", JSON.arrayNode().add(tree(v)));
          hasVolumes = true;
        }
      }
    }

    void addVolumeMount(int index, Container c, Object mount) {
      String path = "/spec/containers/" + index + "/volumeMounts";
      if (c.getVolumeMounts() == null || c.getVolumeMounts().isEmpty()) {
        add(path, JSON.arrayNode().add(tree(mount)));
      } else {
        add(path + "/-", tree(mount));
      }
    }

    /** Adds the variables the container does not set itself (its own values win). */
    void addEnvUnlessSet(int index, Container c, List<EnvVar> env) {
      List<EnvVar> existing = Optional.ofNullable(c.getEnv()).orElse(List.of());
      List<EnvVar> missing = env.stream()
          .filter(e -> existing.stream().noneMatch(x -> x.getName().equals(e.getName())))
          .toList();
      String path = "/spec/containers/" + index + "/env";
      boolean hasEnv = !existing.isEmpty();
      for (EnvVar e : missing) {
        if (hasEnv) {
          add(path + "/-", tree(e));
        } else {
          add(path, JSON.arrayNode().add(tree(e)));
          hasEnv = true;
        }
      }
    }

    void annotate(String key, String value) {
      if (!hasAnnotations) {
        add("/metadata/annotations", JSON.objectNode());
        hasAnnotations = true;
      }
      add("/metadata/annotations/" + key.replace("~", "~0").replace("/", "~1"), JSON.textNode(value));
    }

    ArrayNode ops() {
      return ops;
    }

    private void add(String path, JsonNode value) {
      ObjectNode op = ops.addObject();
      op.put("op", "add");
      op.put("path", path);
      op.set("value", value);
    }

    private static JsonNode tree(Object o) {
      return MAPPER.valueToTree(o);
    }
  }
}
