package io.pgconmgr.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.InstanceSetResources;
import io.pgconmgr.operator.model.SidecarImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden files: src/test/resources/injector/CASE.pod.yaml in, CASE.expected.json out (the JSON Patch,
 * or the skip reasons). Refresh them after an intended change with {@code -Dpgconmgr.golden.update=true}
 * and review the diff.
 */
class InjectorGoldenTest {
  private static final Path DIR = Path.of("src/test/resources/injector");
  private static final ObjectMapper JSON = Serialization.jsonMapper();
  private static final boolean UPDATE = Boolean.getBoolean("pgconmgr.golden.update");

  @ParameterizedTest
  @ValueSource(strings = {"app-pod", "app-pod-with-init-env-volumes", "app-pod-no-pg-env", "postgres-pod",
      "already-injected", "non-matching", "unknown-instanceset", "postgres-pod-without-named-container"})
  void injectorOutputMatchesGoldenFile(String name) throws IOException {
    // Through text, so that numbers compare by value and not by Jackson node type.
    JsonNode actual = JSON.readTree(JSON.writeValueAsString(asJson(Injector.inject(pod(name), "shop", sets(), SidecarImages.BUILT_IN))));
    Path golden = DIR.resolve(name + ".expected.json");
    if (UPDATE) {
      Files.writeString(golden, JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(actual) + "\n");
    }
    assertThat(Files.exists(golden)).as("golden file %s (create with -Dpgconmgr.golden.update=true)", golden).isTrue();
    assertThat(actual).as("injector output for %s differs from %s", name, golden).isEqualTo(JSON.readTree(golden.toFile()));
  }

  @Test
  void patchedApplicationPodRunsConmgrAsNativeSidecarBeforeItsOtherInitContainers() throws IOException {
    Pod patched = applyPatch("app-pod-with-init-env-volumes");

    List<Container> init = patched.getSpec().getInitContainers();
    assertThat(init).extracting(Container::getName).containsExactly("pgconmgr-conmgr", "migrate");
    Container conmgr = init.get(0);
    assertThat(conmgr.getRestartPolicy()).isEqualTo("Always");
    assertThat(conmgr.getStartupProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(conmgr.getStartupProbe().getHttpGet().getPort().getIntVal()).isEqualTo(27547);
    assertThat(conmgr.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(conmgr.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(conmgr.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(conmgr.getArgs()).containsExactly("-D", InstanceSetResources.CONMGR_DATA_DIR);
    assertThat(conmgr.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals(InstanceSetResources.CONMGR_DATA_DIR + "/conmgr.conf")
        && "conmgr.conf".equals(m.getSubPath()) && m.getReadOnly());
    assertThat(patched.getSpec().getVolumes()).extracting(v -> v.getName())
        .containsExactly("cache", InstanceSetResources.CONMGR_CONF_VOLUME, InstanceSetResources.CONMGR_DATA_VOLUME,
            "pgconmgr-tmp-conmgr");
    assertThat(patched.getSpec().getVolumes().get(1).getConfigMap().getName()).isEqualTo("orders-db-conmgr");

    Map<String, String> workerEnv = env(patched.getSpec().getContainers().get(0));
    assertThat(workerEnv).containsEntry("PGHOST", "/var/run/custom").containsEntry("PGPORT", "27546");
    assertThat(env(patched.getSpec().getContainers().get(1))).containsEntry("PGHOST", "127.0.0.1");
    assertThat(patched.getMetadata().getAnnotations())
        .containsEntry("example.org/owner", "team-a")
        .containsEntry(InstanceSetResources.INJECTED_ANNOTATION, "conmgr:orders-db")
        .containsEntry(InstanceSetResources.CONMGR_CONF_HASH_ANNOTATION, "3b1f0c9e2a7d4e65");
  }

  @Test
  void patchedPostgresPodSharesTheRunVolumeBetweenWatchdogAndPostgres() throws IOException {
    Pod patched = applyPatch("postgres-pod");

    Container watchdog = patched.getSpec().getInitContainers().get(0);
    assertThat(watchdog.getName()).isEqualTo(InstanceSetResources.WATCHDOG_CONTAINER);
    assertThat(watchdog.getRestartPolicy()).isEqualTo("Always");
    assertThat(watchdog.getPorts()).anyMatch(p -> p.getContainerPort() == 27545);
    Container postgres = patched.getSpec().getContainers().get(1);
    assertThat(postgres.getName()).isEqualTo("postgres");
    assertThat(postgres.getVolumeMounts()).anyMatch(m -> m.getName().equals(InstanceSetResources.RUN_VOLUME)
        && m.getMountPath().equals(InstanceSetResources.RUN_DIR));
    assertThat(watchdog.getVolumeMounts()).anyMatch(m -> m.getName().equals(InstanceSetResources.RUN_VOLUME)
        && m.getMountPath().equals(InstanceSetResources.RUN_DIR));
    assertThat(patched.getSpec().getContainers().get(0).getVolumeMounts()).isNullOrEmpty();
  }

  @Test
  void injectingAnInjectedPodAgainChangesNothing() throws IOException {
    for (String name : List.of("app-pod", "app-pod-with-init-env-volumes", "postgres-pod")) {
      Pod patched = applyPatch(name);
      InjectionResult again = Injector.inject(patched, "shop", sets(), SidecarImages.BUILT_IN);
      assertThat(again).as(name).isInstanceOf(InjectionResult.Skipped.class);
      assertThat(((InjectionResult.Skipped) again).reasons()).singleElement().asString().startsWith("already injected");
    }
  }

  private static Pod applyPatch(String name) throws IOException {
    Pod pod = pod(name);
    InjectionResult result = Injector.inject(pod, "shop", sets(), SidecarImages.BUILT_IN);
    assertThat(result).isInstanceOf(InjectionResult.Patched.class);
    JsonNode patched = JsonPatch.apply(((InjectionResult.Patched) result).patch(), JSON.valueToTree(pod));
    return JSON.treeToValue(patched, Pod.class);
  }

  private static Map<String, String> env(Container c) {
    return c.getEnv().stream().collect(Collectors.toMap(e -> e.getName(), e -> e.getValue()));
  }

  static JsonNode asJson(InjectionResult result) {
    if (result instanceof InjectionResult.Patched p) {
      return p.patch();
    }
    InjectionResult.Skipped s = (InjectionResult.Skipped) result;
    ObjectNode node = JSON.createObjectNode();
    node.set("skipped", JSON.valueToTree(s.reasons()));
    node.put("notable", s.notable());
    return node;
  }

  static Pod pod(String name) throws IOException {
    return Serialization.unmarshal(Files.readString(DIR.resolve(name + ".pod.yaml")), Pod.class);
  }

  static List<InstanceSet> sets() throws IOException {
    String[] docs = Files.readString(DIR.resolve("instancesets.yaml")).split("(?m)^---$");
    return java.util.Arrays.stream(docs).map(d -> Serialization.unmarshal(d, InstanceSet.class)).toList();
  }
}
