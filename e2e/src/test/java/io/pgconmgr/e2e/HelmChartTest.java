package io.pgconmgr.e2e;

import static io.pgconmgr.e2e.RenderedChart.NAMESPACE;
import static io.pgconmgr.e2e.RenderedChart.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The Helm chart rendered and linted by a real Helm, for the default values and each option. */
class HelmChartTest {

  @Test
  void lintsStrictlyWithoutFindings() {
    LintResult lint = new Helm(RenderedChart.chartDir()).lint().strict().call();
    assertThat(lint.isFailed()).as("lint failed: %s", lint.getMessages()).isFalse();
    assertThat(lint.getMessages()).as("lint messages").noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cert-manager-values.yaml", "network-policy-values.yaml",
      "service-monitor-values.yaml", "strict-values.yaml"})
  void rendersEveryOptionIntoKubernetesObjects(String valuesFile) {
    RenderedChart chart = render(valuesFile);
    assertThat(chart.objects).isNotEmpty();
    assertThat(chart.objects).allSatisfy(o -> {
      assertThat(o.getApiVersion()).as("apiVersion of %s", o.getKind()).isNotBlank();
      assertThat(o.getMetadata().getName()).as("name of a %s", o.getKind()).isNotBlank();
    });
    // Whatever the option, the webhook and the operator it calls are always there.
    chart.one(MutatingWebhookConfiguration.class);
    chart.one(Deployment.class);
  }

  @Test
  void defaultValuesRenderTheOperatorItsServiceRbacAndWebhook() {
    RenderedChart chart = render((String) null);
    assertThat(chart.objects).extracting(o -> o.getKind())
        .containsExactlyInAnyOrder("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
            "Service", "Deployment", "PodDisruptionBudget", "Secret", "MutatingWebhookConfiguration");
    assertThat(chart.objects).filteredOn(o -> !o.getKind().startsWith("Cluster") && !o.getKind().startsWith("Mutating"))
        .allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).isEqualTo(NAMESPACE));
  }

  @Test
  void operatorRunsAsNonRootWithReadOnlyRootFilesystemAndProbesOnItsHttpPort() {
    Deployment deployment = render((String) null).one(Deployment.class);
    var pod = deployment.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
    Container operator = pod.getContainers().get(0);
    assertThat(operator.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(operator.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(operator.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    for (var probe : List.of(operator.getStartupProbe(), operator.getReadinessProbe(), operator.getLivenessProbe())) {
      assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("http");
    }
    assertThat(operator.getPorts()).extracting(ContainerPort::getName).containsExactlyInAnyOrder("http", "webhook");
    // The JVM and Netty need a writable /tmp while the root filesystem is read-only.
    assertThat(operator.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry("pgconmgr.io/inject", "false");
  }

  @Test
  void webhookCallsTheOperatorServiceOnThePortThatReachesTheOperatorsWebhookPort() {
    RenderedChart chart = render((String) null);
    MutatingWebhook webhook = chart.one(MutatingWebhookConfiguration.class).getWebhooks().get(0);
    Service service = chart.one(Service.class);
    Container operator = chart.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);

    var target = webhook.getClientConfig().getService();
    assertThat(target.getName()).isEqualTo(service.getMetadata().getName());
    assertThat(target.getNamespace()).isEqualTo(service.getMetadata().getNamespace());
    ServicePort servicePort = service.getSpec().getPorts().stream()
        .filter(p -> p.getPort().equals(target.getPort())).findFirst().orElseThrow(
            () -> new AssertionError("service has no port " + target.getPort()));
    ContainerPort containerPort = operator.getPorts().stream()
        .filter(p -> p.getName().equals(servicePort.getTargetPort().getStrVal())).findFirst().orElseThrow();
    assertThat(containerPort.getName()).isEqualTo("webhook");
    assertThat(env(operator, "PGCONMGR_WEBHOOK_PORT")).isEqualTo(containerPort.getContainerPort().toString());
    assertThat(service.getSpec().getSelector())
        .containsAllEntriesOf(chart.one(Deployment.class).getSpec().getSelector().getMatchLabels());
    assertThat(target.getPath()).isEqualTo(ChartContract.WEBHOOK_PATH);
  }

  @Test
  void webhookInjectsOnCreateOnlyWithoutSideEffectsShortTimeoutAndKeepsSystemNamespacesOut() {
    MutatingWebhook webhook = render((String) null).one(MutatingWebhookConfiguration.class).getWebhooks().get(0);
    assertThat(webhook.getRules()).singleElement().satisfies(rule -> {
      assertThat(rule.getOperations()).containsExactly("CREATE");
      assertThat(rule.getResources()).containsExactly("pods");
    });
    assertThat(webhook.getSideEffects()).isEqualTo("None");
    assertThat(webhook.getFailurePolicy()).isEqualTo("Ignore");
    assertThat(webhook.getTimeoutSeconds()).isBetween(1, 10);
    assertThat(webhook.getAdmissionReviewVersions()).containsExactly("v1");
    LabelSelectorRequirement excluded = webhook.getNamespaceSelector().getMatchExpressions().stream()
        .filter(e -> e.getOperator().equals("NotIn")).findFirst().orElseThrow();
    assertThat(excluded.getKey()).isEqualTo("kubernetes.io/metadata.name");
    assertThat(excluded.getValues()).contains("kube-system", "kube-public", "kube-node-lease", NAMESPACE);
    assertThat(webhook.getObjectSelector().getMatchExpressions()).anySatisfy(e -> {
      assertThat(e.getKey()).isEqualTo("pgconmgr.io/inject");
      assertThat(e.getOperator()).isEqualTo("NotIn");
      assertThat(e.getValues()).contains("false");
    });
  }

  @Test
  void generatedCaBundleSignsTheServingCertificateForTheServiceDnsName() throws Exception {
    RenderedChart chart = render((String) null);
    MutatingWebhook webhook = chart.one(MutatingWebhookConfiguration.class).getWebhooks().get(0);
    Secret secret = chart.one(Secret.class);
    String mountedSecret = chart.one(Deployment.class).getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getSecret() != null).findFirst().orElseThrow().getSecret().getSecretName();
    assertThat(secret.getMetadata().getName()).isEqualTo(mountedSecret);
    assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");

    X509Certificate ca = certificate(webhook.getClientConfig().getCaBundle());
    X509Certificate serving = certificate(secret.getData().get("tls.crt"));
    assertThat(certificate(secret.getData().get("ca.crt"))).isEqualTo(ca);
    serving.verify(ca.getPublicKey()); // throws when the CA did not sign it
    serving.checkValidity();
    String dnsName = webhook.getClientConfig().getService().getName() + "." + NAMESPACE + ".svc";
    List<String> sans = serving.getSubjectAlternativeNames().stream().map(san -> String.valueOf(san.get(1))).toList();
    assertThat(sans).contains(dnsName);
    assertThat(secret.getData().get("tls.key")).isNotBlank();
  }

  @Test
  void failurePolicyAndTimeoutFollowTheValues() {
    MutatingWebhook webhook = render("strict-values.yaml").one(MutatingWebhookConfiguration.class).getWebhooks().get(0);
    assertThat(webhook.getFailurePolicy()).isEqualTo("Fail");
    assertThat(webhook.getTimeoutSeconds()).isEqualTo(3);
    assertThat(webhook.getNamespaceSelector().getMatchExpressions()).anySatisfy(e -> {
      assertThat(e.getKey()).isEqualTo("kubernetes.io/metadata.name");
      assertThat(e.getOperator()).isEqualTo("In");
      assertThat(e.getValues()).containsExactly("shop", "billing");
    }).anySatisfy(e -> assertThat(e.getKey()).isEqualTo("pgconmgr.io/injection"));
  }

  @Test
  void invalidWebhookValuesAreRejectedByTheValuesSchema() {
    assertThatThrownBy(() -> render(null, Map.of("webhook.failurePolicy", "Sometimes")))
        .hasMessageContaining("failurePolicy");
    assertThatThrownBy(() -> render(null, Map.of("webhook.timeoutSeconds", 60)))
        .hasMessageContaining("timeoutSeconds");
    // A misspelt key is refused instead of silently ignored.
    assertThatThrownBy(() -> render(null, Map.of("webhook.failurPolicy", "Fail")))
        .hasMessageContaining("failurPolicy");
    assertThatThrownBy(() -> render(null, Map.of("networkPolicy.enabled", "yes")))
        .hasMessageContaining("networkPolicy");
  }

  @Test
  void certManagerOptionIssuesTheSecretTheOperatorMountsAndInjectsTheCa() {
    RenderedChart chart = render("cert-manager-values.yaml");
    assertThat(chart.all(Secret.class)).as("no generated certificate with cert-manager").isEmpty();
    String mountedSecret = chart.one(Deployment.class).getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getSecret() != null).findFirst().orElseThrow().getSecret().getSecretName();
    GenericKubernetesResource serving = chart.ofKind("Certificate").stream()
        .map(GenericKubernetesResource.class::cast)
        .filter(c -> mountedSecret.equals(c.<String>get("spec", "secretName"))).findFirst()
        .orElseThrow(() -> new AssertionError("no Certificate writes " + mountedSecret));
    MutatingWebhookConfiguration configuration = chart.one(MutatingWebhookConfiguration.class);
    assertThat(configuration.getMetadata().getAnnotations()).containsEntry("cert-manager.io/inject-ca-from",
        NAMESPACE + "/" + serving.getMetadata().getName());
    assertThat(configuration.getWebhooks().get(0).getClientConfig().getCaBundle()).isNull();
    String dnsName = configuration.getWebhooks().get(0).getClientConfig().getService().getName() + "." + NAMESPACE + ".svc";
    assertThat(serving.<List<String>>get("spec", "dnsNames")).contains(dnsName);
    // The bootstrap CA: a self-signed Issuer, a CA Certificate, and the CA Issuer that signs the serving one.
    assertThat(chart.ofKind("Issuer")).hasSize(2);
    assertThat(chart.ofKind("Certificate")).hasSize(2);
  }

  @Test
  void certManagerOptionUsesTheGivenIssuerWithoutBootstrappingOne() {
    RenderedChart chart = render("cert-manager-values.yaml",
        Map.of("webhook.certManager.issuerRef.kind", "ClusterIssuer", "webhook.certManager.issuerRef.name", "corp-ca"));
    assertThat(chart.ofKind("Issuer")).isEmpty();
    GenericKubernetesResource certificate = (GenericKubernetesResource) chart.ofKind("Certificate").get(0);
    assertThat(certificate.<Map<String, Object>>get("spec", "issuerRef")).containsEntry("kind", "ClusterIssuer")
        .containsEntry("name", "corp-ca");
  }

  @Test
  void networkPolicyOptionSelectsTheOperatorAndOpensWebhookMetricsAndHeartbeatPorts() {
    RenderedChart chart = render("network-policy-values.yaml");
    NetworkPolicy policy = chart.one(NetworkPolicy.class);
    Deployment deployment = chart.one(Deployment.class);
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
    Container operator = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    List<Integer> ingressPorts = policy.getSpec().getIngress().stream().flatMap(r -> r.getPorts().stream())
        .map(p -> p.getPort().getIntVal()).toList();
    assertThat(ingressPorts).containsExactlyInAnyOrderElementsOf(
        operator.getPorts().stream().map(ContainerPort::getContainerPort).toList());
    assertThat(policy.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
    List<Integer> egressPorts = policy.getSpec().getEgress().stream().flatMap(r -> r.getPorts().stream())
        .map(NetworkPolicyPort::getPort).map(p -> p.getIntVal()).toList();
    assertThat(egressPorts).contains(53, 443, 6443, ChartContract.WATCHDOG_PORT);
    assertThat(policy.getSpec().getEgress()).anySatisfy(rule -> assertThat(rule.getTo())
        .extracting(peer -> peer.getIpBlock().getCidr()).containsExactly("10.43.0.1/32", "172.18.0.2/32"));
  }

  @Test
  void networkPolicyIsOffByDefault() {
    assertThat(render((String) null).all(NetworkPolicy.class)).isEmpty();
  }

  @Test
  void serviceMonitorOptionScrapesTheServicesHttpPort() {
    RenderedChart chart = render("service-monitor-values.yaml");
    GenericKubernetesResource monitor = (GenericKubernetesResource) chart.ofKind("ServiceMonitor").get(0);
    Service service = chart.one(Service.class);
    assertThat(monitor.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
    assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
    assertThat(service.getMetadata().getLabels())
        .containsAllEntriesOf(monitor.<Map<String, String>>get("spec", "selector", "matchLabels"));
    Map<String, Object> endpoint = monitor.<List<Map<String, Object>>>get("spec", "endpoints").get(0);
    assertThat(service.getSpec().getPorts()).extracting(ServicePort::getName).contains((String) endpoint.get("port"));
    assertThat(endpoint).containsEntry("path", "/metrics");
  }

  @Test
  void rbacGrantsOnlyTheListedVerbsAndNothingOnSecrets() {
    ClusterRole role = render((String) null).one(ClusterRole.class);
    assertThat(role.getRules()).allSatisfy(rule -> {
      assertThat(rule.getVerbs()).doesNotContain("*", "deletecollection", "escalate", "bind", "impersonate");
      assertThat(rule.getResources()).doesNotContain("*", "secrets");
      assertThat(rule.getApiGroups()).doesNotContain("*");
    });
    assertThat(verbs(role.getRules(), "instancesets")).containsExactlyInAnyOrder("get", "list", "watch", "patch", "update");
    assertThat(verbs(role.getRules(), "instancesets/status")).containsExactlyInAnyOrder("get", "patch", "update");
    assertThat(verbs(role.getRules(), "instancesets/finalizers")).containsExactly("update");
    assertThat(verbs(role.getRules(), "pods")).containsExactlyInAnyOrder("get", "list", "watch");
    assertThat(verbs(role.getRules(), "events")).containsExactly("create");
    assertThat(verbs(role.getRules(), "configmaps"))
        .containsExactlyInAnyOrder("get", "list", "watch", "create", "update", "patch", "delete");
  }

  @Test
  void watchedNamespacesGetRolesAndOnlyReadAccessToInstanceSetsClusterWide() {
    RenderedChart chart = render("strict-values.yaml");
    assertThat(chart.all(Role.class)).filteredOn(r -> !r.getMetadata().getName().endsWith("-leader-election"))
        .extracting(r -> r.getMetadata().getNamespace()).containsExactlyInAnyOrder("shop", "billing");
    assertThat(chart.all(RoleBinding.class)).filteredOn(r -> !r.getMetadata().getName().endsWith("-leader-election"))
        .extracting(r -> r.getMetadata().getNamespace()).containsExactlyInAnyOrder("shop", "billing");
    // The webhook's cache watches all namespaces once there are several: read-only, InstanceSets only.
    ClusterRole read = chart.one(ClusterRole.class);
    assertThat(read.getRules()).singleElement().satisfies(rule -> {
      assertThat(rule.getResources()).containsExactly("instancesets");
      assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch");
    });
    assertThat(chart.one(ClusterRoleBinding.class).getRoleRef().getName()).isEqualTo(read.getMetadata().getName());
    Container operator = chart.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(env(operator, "PGCONMGR_NAMESPACES")).isEqualTo("shop,billing");
    assertThat(env(operator, "JDK_JAVA_OPTIONS")).isEqualTo("-XX:MaxRAMPercentage=60");
  }

  @Test
  void oneWatchedNamespaceNeedsNoClusterWidePermissionAtAll() {
    RenderedChart chart = render(null, Map.of("operator.watchNamespaces[0]", "shop"));
    assertThat(chart.all(ClusterRole.class)).isEmpty();
    assertThat(chart.all(ClusterRoleBinding.class)).isEmpty();
    assertThat(chart.all(Role.class)).extracting(r -> r.getMetadata().getNamespace())
        .containsExactlyInAnyOrder("shop", NAMESPACE);
  }

  @Test
  void operatorFindsTheMountedCertificateAndKeyWhereItIsTold() {
    var pod = render((String) null).one(Deployment.class).getSpec().getTemplate().getSpec();
    Container operator = pod.getContainers().get(0);
    String volume = pod.getVolumes().stream().filter(v -> v.getSecret() != null).findFirst().orElseThrow().getName();
    String mountPath = operator.getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst()
        .orElseThrow().getMountPath();
    assertThat(env(operator, "PGCONMGR_WEBHOOK_CERT")).isEqualTo(mountPath + "/tls.crt");
    assertThat(env(operator, "PGCONMGR_WEBHOOK_KEY")).isEqualTo(mountPath + "/tls.key");
  }

  @Test
  void operatorAndSidecarImagesFollowRegistryAndTag() {
    RenderedChart chart = render(null, Map.of("image.registry", "registry.example.com/db", "image.tag", "1.2.3",
        "sidecars.watchdog.image.repository", "pgconmgr-watchdog"));
    Container operator = chart.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(operator.getImage()).isEqualTo("registry.example.com/db/operator:1.2.3");
    assertThat(env(operator, "PGCONMGR_CONMGR_IMAGE")).isEqualTo("registry.example.com/db/conmgr:1.2.3");
    assertThat(env(operator, "PGCONMGR_WATCHDOG_IMAGE")).isEqualTo("registry.example.com/db/pgconmgr-watchdog:1.2.3");
  }

  @Test
  void notesTellTheUserWhatToApplyNext() {
    String notes = new Helm(RenderedChart.chartDir()).install()
        .withName(RenderedChart.RELEASE).withNamespace(NAMESPACE).withKubeVersion(RenderedChart.KUBE_VERSION)
        .set("webhook.keepCertificateOnUpgrade", false).dryRun().clientOnly().call().getOutput();
    assertThat(notes).contains("kubectl apply -f examples/", "kubectl get instancesets", "127.0.0.1:27546");
    // Every example the notes name exists.
    var mentioned = java.util.regex.Pattern.compile("examples/[\\w.-]+\\.yaml").matcher(notes).results()
        .map(java.util.regex.MatchResult::group).toList();
    assertThat(mentioned).isNotEmpty().allSatisfy(example ->
        assertThat(RenderedChart.repoRoot().resolve(example)).as("NOTES.txt names %s", example).exists());
  }

  private static List<String> verbs(List<PolicyRule> rules, String resource) {
    return rules.stream().filter(r -> r.getResources().contains(resource)).flatMap(r -> r.getVerbs().stream()).toList();
  }

  @Test
  void twoReplicasByDefaultElectALeaderSpreadOverNodesAndKeepOneThroughDrains() {
    RenderedChart chart = render((String) null);
    Deployment deployment = chart.one(Deployment.class);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
    Container operator = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(env(operator, "PGCONMGR_LEADER_ELECTION")).isEqualTo("true");
    assertThat(env(operator, "PGCONMGR_LEADER_ELECTION_LEASE")).isEqualTo("pgconmgr-operator");
    // The Lease's namespace and each replica's identity come from the downward API.
    assertThat(fieldRef(operator, "POD_NAMESPACE")).isEqualTo("metadata.namespace");
    assertThat(fieldRef(operator, "POD_NAME")).isEqualTo("metadata.name");

    Map<String, String> selector = deployment.getSpec().getSelector().getMatchLabels();
    var antiAffinity = deployment.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity();
    assertThat(antiAffinity.getRequiredDuringSchedulingIgnoredDuringExecution()).as("never blocks scheduling").isEmpty();
    assertThat(antiAffinity.getPreferredDuringSchedulingIgnoredDuringExecution()).singleElement().satisfies(t -> {
      assertThat(t.getPodAffinityTerm().getTopologyKey()).isEqualTo("kubernetes.io/hostname");
      assertThat(t.getPodAffinityTerm().getLabelSelector().getMatchLabels()).isEqualTo(selector);
    });

    PodDisruptionBudget pdb = chart.one(PodDisruptionBudget.class);
    assertThat(pdb.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(1);
    assertThat(pdb.getSpec().getMaxUnavailable()).isNull();
    assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(selector);
  }

  @Test
  void leasesAreGrantedByARoleInTheReleaseNamespaceOnlyWithGetCreateUpdate() {
    for (RenderedChart chart : List.of(render((String) null), render("strict-values.yaml"))) {
      Role role = chart.all(Role.class).stream().filter(r -> r.getMetadata().getName().endsWith("-leader-election"))
          .findFirst().orElseThrow(() -> new AssertionError("no leader-election Role"));
      assertThat(role.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
      assertThat(role.getRules()).singleElement().satisfies(rule -> {
        assertThat(rule.getApiGroups()).containsExactly("coordination.k8s.io");
        assertThat(rule.getResources()).containsExactly("leases");
        assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "create", "update");
        assertThat(rule.getResourceNames()).isEmpty();
      });
      RoleBinding binding = chart.all(RoleBinding.class).stream()
          .filter(b -> b.getMetadata().getName().equals(role.getMetadata().getName())).findFirst().orElseThrow();
      assertThat(binding.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
      assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
      assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
      assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
        assertThat(s.getName()).isEqualTo(chart.one(ServiceAccount.class).getMetadata().getName());
        assertThat(s.getNamespace()).isEqualTo(NAMESPACE);
      });
      // Never cluster-wide.
      assertThat(chart.all(ClusterRole.class)).flatExtracting(ClusterRole::getRules)
          .noneSatisfy(rule -> assertThat(rule.getResources()).contains("leases"));
    }
  }

  @Test
  void oneReplicaHasNoDisruptionBudgetNorAntiAffinityAndMayRunWithoutLeaderElection() {
    RenderedChart chart = render(null, Map.of("operator.replicas", 1, "operator.leaderElection.enabled", false));
    Deployment deployment = chart.one(Deployment.class);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
    assertThat(deployment.getSpec().getTemplate().getSpec().getAffinity()).isNull();
    assertThat(chart.all(PodDisruptionBudget.class)).isEmpty();
    assertThat(chart.all(Role.class)).isEmpty();
    assertThat(env(deployment.getSpec().getTemplate().getSpec().getContainers().get(0), "PGCONMGR_LEADER_ELECTION"))
        .isEqualTo("false");
  }

  @Test
  void severalReplicasWithoutLeaderElectionAreRefused() {
    assertThatThrownBy(() -> render(null, Map.of("operator.leaderElection.enabled", false)))
        .hasMessageContaining("operator.replicas > 1 needs operator.leaderElection.enabled");
    assertThatThrownBy(() -> render(null, Map.of("operator.replicas", 0))).hasMessageContaining("replicas");
  }

  @Test
  void givenAffinityReplacesTheDefaultAntiAffinity() {
    RenderedChart chart = render(null, Map.of(
        "operator.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
            + ".matchExpressions[0].key", "pool",
        "operator.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
            + ".matchExpressions[0].operator", "Exists"));
    var affinity = chart.one(Deployment.class).getSpec().getTemplate().getSpec().getAffinity();
    assertThat(affinity.getPodAntiAffinity()).isNull();
    assertThat(affinity.getNodeAffinity()).isNotNull();
  }

  private static String fieldRef(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
        .map(e -> e.getValueFrom().getFieldRef().getFieldPath())
        .orElseThrow(() -> new AssertionError("no env " + name + " in " + container.getName()));
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name + " in " + container.getName()));
  }

  private static X509Certificate certificate(String base64Pem) throws Exception {
    byte[] pem = Base64.getDecoder().decode(base64Pem);
    return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem));
  }
}
