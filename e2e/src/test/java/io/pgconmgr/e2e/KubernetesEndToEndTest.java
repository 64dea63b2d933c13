package io.pgconmgr.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.InstanceSetResources;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * pgconmgr on a real Kubernetes (k3s in a container): the project's three images built and loaded,
 * the chart installed, the examples applied (PostgreSQL primary + standby with the watchdog, an
 * application with conmgr), then a query through localhost, a silent network cut of the primary
 * and a failover, each checked from the application's side and from the database's side.
 *
 * <p>Needs a Docker engine (privileged containers, the docker CLI with BuildKit, br_netfilter on
 * the host so bridged pod traffic crosses iptables) and Internet access for the postgres:17 and
 * Maven images. Reported as skipped where there is no Docker. The methods form one scenario and
 * run in order.
 */
@Testcontainers(disabledWithoutDocker = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubernetesEndToEndTest {

  /** k3s with native sidecars (Kubernetes >= 1.29) and its built-in NetworkPolicy controller. */
  static final DockerImageName K3S_IMAGE = DockerImageName.parse("rancher/k3s:v1.31.4-k3s1");
  static final String OPERATOR_NAMESPACE = "pgconmgr-system";
  static final String NS = "demo";
  static final String CONMGR_CONTAINER = InstanceSetResources.CONMGR_CONTAINER;
  static final String WATCHDOG_CONTAINER = InstanceSetResources.WATCHDOG_CONTAINER;
  /** examples/instanceset-statefulset.yaml sets heartbeatTimeout: 6 (seconds). */
  static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(6);

  @org.testcontainers.junit.jupiter.Container
  static final K3sContainer K3S = new K3sContainer(K3S_IMAGE);

  static KubernetesClient client;
  static String appPod;
  static String primaryIp;

  @BeforeAll
  static void installPgconmgrAndTheExamples() throws Exception {
    Path root = RenderedChart.repoRoot();
    // Tagged as the chart's and the CRD's default images, so the defaults are what runs.
    String tag = appVersion(root);
    ImageLoader images = new ImageLoader(root, root.resolve("e2e/target/e2e-images"));
    images.buildAndLoad("Dockerfile.operator", "ghcr.io/pgconmgr/operator:" + tag, K3S);
    images.buildAndLoad("Dockerfile.sidecar", "ghcr.io/pgconmgr/conmgr:" + tag, K3S);
    images.buildAndLoad("Dockerfile.watchdog", "ghcr.io/pgconmgr/watchdog:" + tag, K3S);

    new Helm(RenderedChart.chartDir()).install()
        .withName("pgconmgr").withNamespace(OPERATOR_NAMESPACE).createNamespace()
        .withKubeConfigContents(K3S.getKubeConfigYaml())
        .waitReady().withTimeout(300)
        .call();
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(K3S.getKubeConfigYaml())).build();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
  }

  @AfterAll
  static void closeClient() {
    if (client != null) {
      client.close();
    }
  }

  @Test
  @Order(1)
  void postgresPodsCreatedAfterTheirInstanceSetGetTheWatchdog() throws Exception {
    apply("instanceset-statefulset.yaml");
    // The operator rendered the set's configuration: it knows the set before any pod is created.
    await("watchdog settings rendered").atMost(Duration.ofMinutes(2))
        .until(() -> client.configMaps().inNamespace(NS).withName(InstanceSetResources.watchdogConfigMapName("pg")).get() != null);
    apply("postgres-statefulset.yaml");
    client.apps().statefulSets().inNamespace(NS).withName("pg")
        .waitUntilCondition(s -> s != null && s.getStatus() != null
            && Integer.valueOf(2).equals(s.getStatus().getReadyReplicas()), 10, TimeUnit.MINUTES);

    for (String name : List.of("pg-0", "pg-1")) {
      Pod pod = client.pods().inNamespace(NS).withName(name).get();
      Container watchdog = initContainer(pod, WATCHDOG_CONTAINER);
      assertThat(watchdog.getRestartPolicy()).as("native sidecar").isEqualTo("Always");
      assertThat(watchdog.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    }
    primaryIp = client.pods().inNamespace(NS).withName("pg-0").get().getStatus().getPodIP();
  }

  @Test
  @Order(2)
  void applicationQueriesThePrimaryThroughConmgrOnLocalhost() throws Exception {
    apply("app-deployment.yaml");
    client.apps().deployments().inNamespace(NS).withName("demo-app")
        .waitUntilCondition(d -> d != null && d.getStatus() != null
            && Integer.valueOf(1).equals(d.getStatus().getReadyReplicas()), 5, TimeUnit.MINUTES);
    Pod pod = client.pods().inNamespace(NS).withLabel("app.kubernetes.io/name", "demo-app").list().getItems().get(0);
    appPod = pod.getMetadata().getName();
    assertThat(initContainer(pod, CONMGR_CONTAINER).getRestartPolicy()).isEqualTo("Always");
    assertThat(pod.getSpec().getContainers().get(0).getEnv())
        .anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue()).isEqualTo("PGHOST=127.0.0.1"));

    assertThat(appQuery("select current_setting('cluster_name') || ':' || pg_is_in_recovery()"))
        .isEqualTo("pg-0:false");
    // The primary's watchdog lists its conmgr peers in pgx_stat_watchdog (the application's, the operator's).
    await("pgx_stat_watchdog on pg-0 lists the application's conmgr").atMost(Duration.ofMinutes(1))
        .until(() -> localQuery("pg-0", "select count(*) from pgx_stat_watchdog where conmgr_addr = '"
            + pod.getStatus().getPodIP() + "'"), "1"::equals);
    await("InstanceSet reports pg-0 as primary and Ready").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
      GenericKubernetesResource set = instanceSet();
      assertThat(String.valueOf(set.<Object>get("status", "primary"))).contains("pg-0");
      assertThat(condition(set, "Ready")).isEqualTo("True");
    });
  }

  @Test
  @Order(3)
  void silentNetworkCutOfThePrimaryFailsTheInFlightQueryAndTerminatesItsBackend() throws Exception {
    // Healthy first: a long query from the application runs on pg-0.
    ExecWatch longQuery = exec(appPod, "app", "psql", "-X", "-c", "select pg_sleep(300)");
    await("the application's query runs on pg-0").atMost(Duration.ofSeconds(60))
        .until(() -> "1".equals(localQuery("pg-0", "select count(*) from pg_stat_activity "
            + "where usename = 'app' and query like '%pg_sleep(300)%'")));

    // Cut pg-0 off the pod network, silently (DROP, no RST), both ways and for established
    // connections too: inserted ahead of the connection-tracking accepts of the policy controller.
    long cutAt = System.nanoTime();
    k3s("iptables", "-I", "FORWARD", "1", "-s", primaryIp, "-j", "DROP");
    k3s("iptables", "-I", "FORWARD", "1", "-d", primaryIp, "-j", "DROP");

    int exitCode = longQuery.exitCode().get(3, TimeUnit.MINUTES);
    Duration failedAfter = Duration.ofNanos(System.nanoTime() - cutAt);
    System.out.printf("in-flight query failed %d ms after the cut (heartbeat_timeout %d s)%n",
        failedAfter.toMillis(), HEARTBEAT_TIMEOUT.toSeconds());
    assertThat(exitCode).as("psql exit code of the cut query").isNotZero();
    // Generous bound: without conmgr the query would hang until TCP gives up (minutes).
    assertThat(failedAfter).isLessThan(HEARTBEAT_TIMEOUT.multipliedBy(10));

    // The watchdog beside pg-0 lost the conmgr's heartbeats too and terminated its backend (the
    // exec reaches pg-0 through the kubelet, not through the cut pod network).
    await("the lost client's backend terminated on pg-0").atMost(Duration.ofMinutes(2))
        .until(() -> "0".equals(localQuery("pg-0", "select count(*) from pg_stat_activity where usename = 'app'")));
    System.out.printf("backend on pg-0 terminated %d ms after the cut%n",
        Duration.ofNanos(System.nanoTime() - cutAt).toMillis());

    await("InstanceSet reports the set degraded").atMost(Duration.ofMinutes(2))
        .untilAsserted(() -> assertThat(condition(instanceSet(), "Degraded")).isEqualTo("True"));
  }

  @Test
  @Order(4)
  void applicationFollowsThePromotionOfTheStandby() throws Exception {
    assertThat(localQuery("pg-1", "select pg_is_in_recovery()")).isEqualTo("t");
    long promotedAt = System.nanoTime();
    assertThat(localQuery("pg-1", "select pg_promote()")).isEqualTo("t");

    await("read-write clients reach pg-1").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
        .until(() -> "pg-1:false".equals(appQueryOrNull("select current_setting('cluster_name') || ':' || pg_is_in_recovery()")));
    System.out.printf("first read-write query on pg-1 %d ms after pg_promote()%n",
        Duration.ofNanos(System.nanoTime() - promotedAt).toMillis());
    await("InstanceSet reports pg-1 as primary").atMost(Duration.ofMinutes(2))
        .untilAsserted(() -> assertThat(String.valueOf(instanceSet().<Object>get("status", "primary"))).contains("pg-1"));
  }

  // --- helpers ---

  private static void apply(String example) throws Exception {
    try (InputStream in = Files.newInputStream(RenderedChart.repoRoot().resolve("examples").resolve(example))) {
      client.load(in).inNamespace(NS).serverSideApply();
    }
  }

  private static GenericKubernetesResource instanceSet() {
    return client.genericKubernetesResources(InstanceSet.GROUP + "/" + InstanceSet.VERSION, InstanceSet.KIND)
        .inNamespace(NS).withName("pg").get();
  }

  @SuppressWarnings("unchecked")
  private static String condition(GenericKubernetesResource set, String type) {
    List<Map<String, Object>> conditions = set.get("status", "conditions");
    if (conditions == null) {
      return null;
    }
    return conditions.stream().filter(c -> type.equals(c.get("type"))).map(c -> (String) c.get("status"))
        .findFirst().orElse(null);
  }

  private static Container initContainer(Pod pod, String name) {
    return pod.getSpec().getInitContainers().stream().filter(c -> c.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError(pod.getMetadata().getName() + " has no " + name + " sidecar; init containers: "
            + pod.getSpec().getInitContainers().stream().map(Container::getName).toList()));
  }

  /** A query from the application container, through conmgr on 127.0.0.1 (PGHOST/PGPORT set by injection). */
  private static String appQuery(String sql) throws Exception {
    return run(appPod, "app", "psql", "-X", "-A", "-t", "-c", sql);
  }

  private static String appQueryOrNull(String sql) {
    try {
      return appQuery(sql);
    } catch (Exception | AssertionError e) {
      return null;
    }
  }

  /** A query inside a PostgreSQL pod, on its local socket. */
  private static String localQuery(String pod, String sql) throws Exception {
    return run(pod, "postgres", "psql", "-X", "-A", "-t", "-U", "postgres", "-c", sql);
  }

  private static String run(String pod, String container, String... command) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (ExecWatch watch = client.pods().inNamespace(NS).withName(pod).inContainer(container)
        .writingOutput(out).writingError(err).exec(command)) {
      int exit = watch.exitCode().get(2, TimeUnit.MINUTES);
      if (exit != 0) {
        throw new AssertionError(String.join(" ", command) + " in " + pod + " exited " + exit + ": "
            + err.toString(StandardCharsets.UTF_8));
      }
      return out.toString(StandardCharsets.UTF_8).strip();
    }
  }

  private static ExecWatch exec(String pod, String container, String... command) {
    return client.pods().inNamespace(NS).withName(pod).inContainer(container)
        .writingOutput(new ByteArrayOutputStream()).writingError(new ByteArrayOutputStream()).exec(command);
  }

  private static void k3s(String... command) throws Exception {
    ExecResult result = K3S.execInContainer(command);
    if (result.getExitCode() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " in k3s: " + result.getStderr());
    }
  }

  private static String appVersion(Path root) throws Exception {
    Matcher m = Pattern.compile("(?m)^appVersion:\\s*\"?([^\"\\s]+)\"?").matcher(
        Files.readString(root.resolve("helm/pgconmgr/Chart.yaml")));
    if (!m.find()) {
      throw new IllegalStateException("no appVersion in Chart.yaml");
    }
    return m.group(1);
  }
}
