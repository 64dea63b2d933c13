package io.pgconmgr.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.InstanceSpec;
import io.pgconmgr.operator.model.InstanceSetResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link OperatorMain} as a real process with leader election against the CRUD mock API server: it
 * exits on SIGTERM while holding the Lease (JOSDK's own exit-on-stop-leading would deadlock the
 * shutdown hook here), and exits with status 1 when another replica holds the Lease.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class OperatorProcessLeaseTest {
  private static final String NS = "pgconmgr-system";
  private static final String POD = "pgconmgr-operator-0";
  private static final Duration START = Duration.ofSeconds(90);
  KubernetesMockServer server;
  KubernetesClient client;
  private Process operator;
  private Path log;

  @BeforeEach
  void startOperatorProcess() throws Exception {
    // No RBAC in the mock: answer JOSDK's lease-permission check as a real API server would.
    server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(201, new SelfSubjectRulesReviewBuilder().withNewStatus().withIncomplete(false)
            .withResourceRules(new ResourceRuleBuilder().withApiGroups("coordination.k8s.io").withResources("leases")
                .withVerbs("get", "create", "update").build())
            .endStatus().build())
        .always();
    log = Files.createTempFile("pgconmgr-operator", ".log");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        "-Dkubernetes.master=" + client.getMasterUrl(), "-Dkubernetes.auth.tryKubeConfig=false",
        "-Dkubernetes.auth.tryServiceAccount=false", "-Dkubernetes.namespace=" + NS,
        OperatorMain.class.getName())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("PGCONMGR_LEADER_ELECTION", "true");
    pb.environment().put("POD_NAMESPACE", NS);
    pb.environment().put("POD_NAME", POD);
    pb.environment().put("PGCONMGR_WEBHOOK_ENABLED", "false");
    pb.environment().put("PGCONMGR_HTTP_PORT", "0");
    pb.environment().put("PGCONMGR_SERVER_SIDE_APPLY", "false");
    operator = pb.start();
    await().atMost(START).until(() -> POD.equals(holder()) || !operator.isAlive());
    assertThat(operator.isAlive()).as("operator running; its log:%n%s", tail()).isTrue();
  }

  @AfterEach
  void stop() throws Exception {
    if (operator != null && operator.isAlive()) {
      operator.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    Files.deleteIfExists(log);
  }

  @Test
  void leaseHolderReconcilesAndExitsPromptlyOnSigterm() throws Exception {
    client.resource(instanceSet()).create();
    await().atMost(START).until(() -> client.configMaps().inNamespace("shop")
        .withName(InstanceSetResources.conmgrConfigMapName("orders-db")).get() != null);

    long t0 = System.nanoTime();
    operator.destroy(); // SIGTERM, as the kubelet sends
    boolean exited = operator.waitFor(30, TimeUnit.SECONDS);
    assertThat(exited).as("exited within 30 s of SIGTERM; its log:%n%s", tail()).isTrue();
    System.out.printf("operator holding the lease exited %d ms after SIGTERM (status %d)%n",
        (System.nanoTime() - t0) / 1_000_000, operator.exitValue());
  }

  @Test
  void holderWhoseLeaseIsTakenExitsWithStatusOne() throws Exception {
    // Another replica holds the Lease now (as after a partition healed), for an hour. The holder keeps
    // renewing it meanwhile, so an update may meet a newer version (409): read again and retry, as a
    // competing replica would.
    await().atMost(Duration.ofSeconds(20)).ignoreExceptionsInstanceOf(KubernetesClientException.class).until(() -> {
      Lease lease = client.resources(Lease.class).inNamespace(NS).withName(LeaderElection.DEFAULT_LEASE_NAME).get();
      lease.getSpec().setHolderIdentity("pgconmgr-operator-1");
      lease.getSpec().setLeaseDurationSeconds(3600);
      lease.getSpec().setRenewTime(ZonedDateTime.now());
      client.resource(lease).update();
      return true;
    });

    long t0 = System.nanoTime();
    // It gives up after the renew deadline (10 s) and exits.
    boolean exited = operator.waitFor(60, TimeUnit.SECONDS);
    assertThat(exited).as("exited after losing the lease; its log:%n%s", tail()).isTrue();
    assertThat(operator.exitValue()).isEqualTo(1);
    assertThat(tail()).contains("lost the lease pgconmgr-operator: exiting");
    System.out.printf("operator exited %d ms after its lease was taken%n", (System.nanoTime() - t0) / 1_000_000);
  }

  private String holder() {
    Lease lease = client.resources(Lease.class).inNamespace(NS).withName(LeaderElection.DEFAULT_LEASE_NAME).get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }

  private String tail() throws Exception {
    List<String> lines = Files.readAllLines(log);
    return String.join(System.lineSeparator(), lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  private static InstanceSet instanceSet() {
    InstanceSet set = new InstanceSet();
    set.getMetadata().setName("orders-db");
    set.getMetadata().setNamespace("shop");
    InstanceSetSpec spec = new InstanceSetSpec();
    spec.getInstances().add(new InstanceSpec(null, "198.18.0.10", 5432, 27545));
    set.setSpec(spec);
    return set;
  }
}
