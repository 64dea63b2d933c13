package io.pgconmgr.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The examples parse as Kubernetes objects and fit together: selectors, names, ports, secrets. */
class ExamplesTest {

  static Stream<String> exampleFiles() throws IOException {
    try (Stream<Path> files = Files.list(examplesDir())) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("exampleFiles")
  void everyDocumentIsAKubernetesObject(String file) throws IOException {
    List<HasMetadata> objects = load(file);
    assertThat(objects).isNotEmpty().allSatisfy(o -> {
      assertThat(o.getApiVersion()).isNotBlank();
      assertThat(o.getMetadata().getName()).isNotBlank();
      assertThat(o.getMetadata().getNamespace()).as("examples apply to the namespace of the user's choice").isNull();
    });
  }

  @Test
  void statefulSetInstanceSetSelectsThePostgresPodsTheirContainerAndPort() throws IOException {
    GenericKubernetesResource set = one(load("instanceset-statefulset.yaml"), "InstanceSet");
    StatefulSet statefulSet = only(load("postgres-statefulset.yaml"), StatefulSet.class);
    var template = statefulSet.getSpec().getTemplate();
    Map<String, String> matchLabels = set.get("spec", "postgresSelector", "matchLabels");
    assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(matchLabels)
        .doesNotContainEntry("pgconmgr.io/inject", "false");
    Container postgres = template.getSpec().getContainers().stream()
        .filter(c -> c.getName().equals(set.<String>get("spec", "postgresSelector", "containerName"))).findFirst()
        .orElseThrow(() -> new AssertionError("postgresSelector.containerName is not a container of the StatefulSet"));
    assertThat(postgres.getPorts()).anySatisfy(p ->
        assertThat(p.getContainerPort()).isEqualTo(set.<Integer>get("spec", "postgresSelector", "port")));
    assertThat(statefulSet.getSpec().getReplicas()).as("a primary and a standby").isEqualTo(2);
  }

  @Test
  void statefulSetPodsHaveStableNamesThatResolveBeforeTheyAreReady() throws IOException {
    List<HasMetadata> objects = load("postgres-statefulset.yaml");
    StatefulSet statefulSet = only(objects, StatefulSet.class);
    Service headless = only(objects, Service.class);
    // conmgr.conf names each pod <pod>.<serviceName>.<namespace>.svc: the StatefulSet's governing
    // Service must be headless, select the pods, and publish them before they are ready (conmgr
    // must reach a standby or a starting primary too).
    assertThat(headless.getMetadata().getName()).isEqualTo(statefulSet.getSpec().getServiceName());
    assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
    assertThat(statefulSet.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(headless.getSpec().getSelector());
  }

  @Test
  void applicationOptsInToTheInstanceSetAndUsesItsSecret() throws IOException {
    GenericKubernetesResource set = one(load("instanceset-statefulset.yaml"), "InstanceSet");
    List<HasMetadata> postgres = load("postgres-statefulset.yaml");
    Deployment app = only(load("app-deployment.yaml"), Deployment.class);
    assertThat(app.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry("pgconmgr.io/inject", set.getMetadata().getName());
    Secret secret = only(postgres, Secret.class);
    app.getSpec().getTemplate().getSpec().getContainers().forEach(c -> c.getEnv().stream()
        .filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
        .forEach(e -> {
          assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo(secret.getMetadata().getName());
          assertThat(secret.getStringData()).containsKey(e.getValueFrom().getSecretKeyRef().getKey());
        }));
    // The application does not set PGHOST/PGPORT itself: the injector points them at conmgr.
    assertThat(app.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .noneMatch(e -> e.getName().equals("PGHOST") || e.getName().equals("PGPORT"));
  }

  @Test
  void cloudNativePgInstanceSetSelectsTheClustersInstancePodsAndItsWatchdogRoleCanLogIn() throws IOException {
    List<HasMetadata> objects = load("instanceset-cloudnativepg.yaml");
    GenericKubernetesResource set = one(objects, "InstanceSet");
    GenericKubernetesResource cluster = one(objects, "Cluster");
    assertThat(cluster.getApiVersion()).isEqualTo("postgresql.cnpg.io/v1");
    assertThat(set.<Map<String, String>>get("spec", "postgresSelector", "matchLabels"))
        .containsEntry("cnpg.io/cluster", cluster.getMetadata().getName());
    String user = set.get("spec", "watchdog", "user");
    assertThat(cluster.<List<String>>get("spec", "bootstrap", "initdb", "postInitSQL"))
        .anySatisfy(sql -> assertThat(sql).contains("CREATE ROLE " + user + " LOGIN").contains("pg_signal_backend"));
    assertThat(cluster.<List<String>>get("spec", "postgresql", "pg_hba"))
        .anySatisfy(rule -> assertThat(rule).contains(" " + user + " 127.0.0.1/32 "));
  }

  @Test
  void everyExampleTheDocsAndChartNameExists() throws IOException {
    Path root = RenderedChart.repoRoot();
    for (Path doc : List.of(root.resolve("docs/kubernetes.md"), root.resolve("helm/pgconmgr/README.md"),
        root.resolve("helm/pgconmgr/templates/NOTES.txt"))) {
      java.util.regex.Pattern.compile("examples/[\\w.-]+\\.yaml").matcher(Files.readString(doc)).results()
          .forEach(m -> assertThat(root.resolve(m.group())).as("%s names %s", root.relativize(doc), m.group()).exists());
    }
  }

  static Path examplesDir() {
    return RenderedChart.repoRoot().resolve("examples");
  }

  static List<HasMetadata> load(String file) throws IOException {
    return RenderedChart.parse(Files.readString(examplesDir().resolve(file)));
  }

  private static GenericKubernetesResource one(List<HasMetadata> objects, String kind) {
    List<HasMetadata> found = objects.stream().filter(o -> kind.equals(o.getKind())).toList();
    assertThat(found).as("%s objects", kind).hasSize(1);
    return (GenericKubernetesResource) found.get(0);
  }

  private static <T extends HasMetadata> T only(List<HasMetadata> objects, Class<T> type) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(found).as("%s objects", type.getSimpleName()).hasSize(1);
    return found.get(0);
  }
}
