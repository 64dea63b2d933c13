package io.pgconmgr.e2e;

import static io.pgconmgr.e2e.RenderedChart.render;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgconmgr.operator.LeaderElection;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.InstanceSetResources;
import io.pgconmgr.operator.model.SidecarImages;
import io.pgconmgr.operator.model.Sidecars;
import io.pgconmgr.operator.webhook.AdmissionServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The chart, the images and the operator's one definition of each sidecar agree: CRD, webhook path,
 * images, ports, probe paths, uid, scratch directory, configuration paths, environment variables.
 */
class OperatorContractTest {

  private static final String CRD = "instancesets.pgconmgr.io-v1.yml";

  @Test
  void chartShipsTheCrdTheOperatorGenerates() throws IOException {
    Path root = RenderedChart.repoRoot();
    Path generated = root.resolve("crds").resolve(CRD);
    Path inChart = RenderedChart.chartDir().resolve("crds").resolve(CRD);
    assertThat(generated).exists();
    assertThat(Files.mismatch(generated, inChart))
        .as("helm/pgconmgr/crds/%s differs from crds/%s: cp crds/%s helm/pgconmgr/crds/", CRD, CRD, CRD)
        .isEqualTo(-1L);
    try (Stream<Path> files = Files.list(RenderedChart.chartDir().resolve("crds"))) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly(CRD);
    }
  }

  @Test
  void webhookCallsThePathTheOperatorServesAndSkipsPodsByTheOperatorsLabel() {
    MutatingWebhook webhook = render((String) null).one(MutatingWebhookConfiguration.class).getWebhooks().get(0);
    assertThat(webhook.getClientConfig().getService().getPath()).isEqualTo(AdmissionServer.PATH);
    assertThat(webhook.getObjectSelector().getMatchExpressions())
        .anySatisfy(e -> assertThat(e.getKey()).isEqualTo(InstanceSetResources.INJECT_LABEL));
  }

  @Test
  void sidecarImagesTheChartGivesTheOperatorComeFromItsRegistryAndReleaseAndAreTheBuiltInOnes() {
    Container operator = operatorContainer(render((String) null));
    String prefix = operator.getImage().substring(0, operator.getImage().lastIndexOf("/operator:"));
    String tag = operator.getImage().substring(operator.getImage().lastIndexOf(':') + 1);
    SidecarImages fromChart = SidecarImages.fromEnvironment(operator.getEnv().stream()
        .filter(e -> e.getValue() != null).collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue)));
    assertThat(fromChart).isEqualTo(new SidecarImages(prefix + "/conmgr:" + tag, prefix + "/watchdog:" + tag));
    // Without the chart (the operator run by hand), the same release's images.
    assertThat(SidecarImages.BUILT_IN).isEqualTo(fromChart);
  }

  @Test
  void crdDefaultsNoSidecarImageSoTheOperatorsApply() throws IOException {
    String crd = Files.readString(RenderedChart.repoRoot().resolve("crds").resolve(CRD));
    assertThat(crd).doesNotContain("ghcr.io/pgconmgr/conmgr", "ghcr.io/pgconmgr/watchdog");
  }

  @Test
  void conmgrSidecarServesThePortsAndProbePathsTheChartAndImageDocument() throws IOException {
    Map<String, Object> values = chartValues("sidecars", "conmgr");
    Container conmgr = Sidecars.conmgr(defaultSet(), SidecarImages.BUILT_IN);
    int clientPort = (Integer) values.get("clientPort");
    int httpPort = (Integer) values.get("httpPort");
    assertThat(conmgr.getPorts()).extracting(ContainerPort::getContainerPort).contains(clientPort, httpPort);
    assertThat(conmgr.getStartupProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(conmgr.getStartupProbe().getHttpGet().getPort().getIntVal()).isEqualTo(httpPort);
    assertThat(conmgr.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/live");
    assertThat(exposed("Dockerfile.sidecar")).containsExactlyInAnyOrder(clientPort, httpPort);
    assertThat(conmgr.getArgs()).containsExactlyElementsOf(cmd("Dockerfile.sidecar"));
  }

  @Test
  void watchdogSidecarListensWhereTheChartsNetworkPolicyAndImageExpect() throws IOException {
    Map<String, Object> values = chartValues("sidecars", "watchdog");
    Container watchdog = Sidecars.watchdog(defaultSet(), SidecarImages.BUILT_IN);
    int port = (Integer) values.get("port");
    assertThat(watchdog.getPorts()).extracting(ContainerPort::getContainerPort).contains(port);
    assertThat(exposed("Dockerfile.watchdog")).contains(port, (Integer) values.get("httpPort"));
    NetworkPolicy policy = render("network-policy-values.yaml").one(NetworkPolicy.class);
    assertThat(policy.getSpec().getEgress()).flatExtracting(r -> r.getPorts())
        .anySatisfy(p -> assertThat(p.getPort().getIntVal()).isEqualTo(port));
    assertThat(watchdog.getArgs()).containsExactlyElementsOf(cmd("Dockerfile.watchdog"));
  }

  @Test
  void sidecarsAndOperatorRunAsTheImagesUserWithAWritableTmp() throws IOException {
    assertThat(InstanceSetResources.SIDECAR_UID).isEqualTo(ChartContract.IMAGE_UID);
    for (Container sidecar : List.of(Sidecars.conmgr(defaultSet(), SidecarImages.BUILT_IN), Sidecars.watchdog(defaultSet(), SidecarImages.BUILT_IN))) {
      assertThat(sidecar.getSecurityContext().getRunAsUser()).isEqualTo(ChartContract.IMAGE_UID);
      assertThat(sidecar.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
      // The images' JVMs write only to java.io.tmpdir=/tmp.
      assertThat(sidecar.getVolumeMounts()).anySatisfy(m -> {
        assertThat(m.getMountPath()).isEqualTo("/tmp");
        assertThat(m.getReadOnly()).isNotEqualTo(Boolean.TRUE);
      });
    }
    Deployment deployment = render((String) null).one(Deployment.class);
    assertThat(deployment.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsUser())
        .isEqualTo(ChartContract.IMAGE_UID);
  }

  @Test
  void everyEnvironmentVariableTheChartSetsIsReadByTheOperator() throws IOException {
    Set<String> set = operatorContainer(render("strict-values.yaml")).getEnv().stream().map(EnvVar::getName)
        .filter(n -> n.startsWith("PGCONMGR_")).collect(Collectors.toSet());
    assertThat(set).isNotEmpty();
    String operatorSources;
    try (Stream<Path> files = Files.walk(RenderedChart.repoRoot().resolve("operator/src/main/java"))) {
      operatorSources = files.filter(p -> p.toString().endsWith(".java")).map(OperatorContractTest::read)
          .collect(Collectors.joining("\n"));
    }
    assertThat(set).allSatisfy(name -> assertThat(operatorSources).as("operator reads %s", name).contains("\"" + name + "\""));
  }

  @Test
  void operatorReadsTheLeaderElectionSettingsAndDownwardApiVariablesTheChartSets() throws IOException {
    Container operator = operatorContainer(render((String) null));
    Map<String, String> env = new java.util.HashMap<>();
    for (EnvVar e : operator.getEnv()) {
      // What the kubelet resolves the downward API fields to.
      env.put(e.getName(), e.getValue() != null ? e.getValue()
          : e.getValueFrom().getFieldRef().getFieldPath().equals("metadata.namespace") ? RenderedChart.NAMESPACE
          : "pgconmgr-5f7c9d-abcde");
    }
    LeaderElection election = LeaderElection.fromEnvironment(env);
    assertThat(election).as("leader election switched on by the chart").isNotNull();
    assertThat(election.leaseNamespace()).isEqualTo(RenderedChart.NAMESPACE);
    assertThat(election.identity()).isEqualTo("pgconmgr-5f7c9d-abcde");
    assertThat(election.leaseName()).isEqualTo(chartValues("operator", "leaderElection").get("leaseName"));
  }

  private static InstanceSet defaultSet() {
    InstanceSet set = new InstanceSet();
    set.setMetadata(new ObjectMetaBuilder().withName("pg").withNamespace("demo").build());
    return set;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> chartValues(String... path) throws IOException {
    Map<String, Object> node = Serialization.unmarshal(Files.readString(RenderedChart.chartDir().resolve("values.yaml")), Map.class);
    for (String key : path) {
      node = (Map<String, Object>) node.get(key);
    }
    return node;
  }

  private static List<Integer> exposed(String dockerfile) throws IOException {
    return Arrays.stream(Dockerfile.read(RenderedChart.repoRoot().resolve(dockerfile)).finalStage()
        .lastArguments("EXPOSE").orElseThrow().split("\\s+")).map(Integer::parseInt).toList();
  }

  private static List<String> cmd(String dockerfile) throws IOException {
    String json = Dockerfile.read(RenderedChart.repoRoot().resolve(dockerfile)).finalStage().lastArguments("CMD").orElseThrow();
    return Arrays.stream(json.substring(1, json.length() - 1).split(",")).map(String::strip)
        .map(s -> s.substring(1, s.length() - 1)).toList();
  }

  private static Container operatorContainer(RenderedChart chart) {
    return chart.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name));
  }

  private static String read(Path path) {
    try {
      return Files.readString(path);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
