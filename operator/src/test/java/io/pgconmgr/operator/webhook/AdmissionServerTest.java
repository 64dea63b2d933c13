package io.pgconmgr.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgconmgr.operator.EventRecorder;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.InstanceSetResources;
import io.pgconmgr.operator.model.SidecarImages;
import io.pgconmgr.operator.testsupport.SelfSignedCertificate;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook over real HTTPS with a self-signed certificate, real AdmissionReview JSON, InstanceSets
 * from an informer on Fabric8's CRUD mock API server, and skip events written to that server.
 */
@EnableKubernetesMockClient(crud = true)
class AdmissionServerTest {
  private static final ObjectMapper JSON = Serialization.jsonMapper();
  KubernetesClient client;
  @TempDir
  Path tmp;
  /** The operator's default images, as the chart would set them for a private registry. */
  private static final SidecarImages OPERATOR_IMAGES =
      new SidecarImages("registry.example/pgconmgr/conmgr:7.1", "registry.example/pgconmgr/watchdog:7.1");
  private InstanceSetCache cache;
  private AdmissionServer server;
  private HttpClient http;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @BeforeEach
  void start() throws Exception {
    for (InstanceSet set : InjectorGoldenTest.sets()) {
      client.resource(set).create();
    }
    cache = InstanceSetCache.start(client, null);
    await().atMost(Duration.ofSeconds(10)).until(() -> cache.inNamespace("shop").size() == 2);
    SelfSignedCertificate cert = SelfSignedCertificate.create(tmp);
    server = new AdmissionServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        PemKeyManager.serverContext(cert.certFile(), cert.keyFile()), cache::inNamespace,
        OPERATOR_IMAGES, new EventRecorder(client, "pgconmgr-webhook"), meters).start();
    http = HttpClient.newBuilder().sslContext(cert.clientContext()).connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void stop() {
    server.close();
    cache.close();
  }

  @Test
  void podCreationGetsTheConmgrSidecarThroughAJsonPatch() throws Exception {
    JsonNode review = JSON.readTree(Files.readString(Path.of("src/test/resources/admission/create-app-pod.json")));

    HttpResponse<String> reply = post(review.toString());

    assertThat(reply.statusCode()).isEqualTo(200);
    JsonNode answer = JSON.readTree(reply.body());
    assertThat(answer.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
    assertThat(answer.path("kind").asText()).isEqualTo("AdmissionReview");
    JsonNode response = answer.get("response");
    assertThat(response.path("uid").asText()).isEqualTo("705ab4f5-6393-11e8-b7cc-42010a800002");
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.path("patchType").asText()).isEqualTo("JSONPatch");
    JsonNode patch = JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText()));
    Pod patched = JSON.treeToValue(JsonPatch.apply(patch, review.at("/request/object")), Pod.class);
    assertThat(patched.getSpec().getInitContainers()).extracting(c -> c.getName(), c -> c.getImage())
        .as("the set names no image: the operator's default").containsExactly(
            org.assertj.core.groups.Tuple.tuple(InstanceSetResources.CONMGR_CONTAINER, OPERATOR_IMAGES.conmgr()));
    assertThat(patched.getSpec().getContainers().get(0).getEnv()).extracting(e -> e.getName())
        .containsExactly("PGHOST", "PGPORT");
    assertThat(patched.getMetadata().getAnnotations())
        .containsEntry(InstanceSetResources.CONMGR_CONF_HASH_ANNOTATION, "3b1f0c9e2a7d4e65");
    assertThat(meters.counter("pgconmgr.webhook.admissions", "result", "injected").count()).isEqualTo(1.0);
  }

  @Test
  void updatesAndOtherKindsAreAdmittedWithoutPatch() throws Exception {
    ObjectNode review = (ObjectNode) JSON.readTree(Files.readString(Path.of("src/test/resources/admission/create-app-pod.json")));
    ((ObjectNode) review.get("request")).put("operation", "UPDATE");

    JsonNode response = JSON.readTree(post(review.toString()).body()).get("response");

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
  }

  @Test
  void optedInPodThatCannotBeInjectedIsAdmittedUnchangedWithAWarningEvent() throws Exception {
    ObjectNode review = (ObjectNode) JSON.readTree(Files.readString(Path.of("src/test/resources/admission/create-app-pod.json")));
    ((ObjectNode) review.at("/request/object/metadata/labels")).put(InstanceSetResources.INJECT_LABEL, "billing-db");

    JsonNode response = JSON.readTree(post(review.toString()).body()).get("response");

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      List<Event> events = client.v1().events().inNamespace("shop").list().getItems();
      assertThat(events).anySatisfy(e -> {
        assertThat(e.getReason()).isEqualTo("InjectionSkipped");
        assertThat(e.getType()).isEqualTo("Warning");
        assertThat(e.getInvolvedObject().getName()).isEqualTo("web-7d9f8c-");
        assertThat(e.getMessage()).contains("billing-db names no InstanceSet in namespace shop");
      });
    });
  }

  @Test
  void podsOfOtherNamespacesDoNotSeeThisNamespacesInstanceSets() throws Exception {
    ObjectNode review = (ObjectNode) JSON.readTree(Files.readString(Path.of("src/test/resources/admission/create-app-pod.json")));
    ((ObjectNode) review.get("request")).put("namespace", "elsewhere");
    ((ObjectNode) review.at("/request/object/metadata")).put("namespace", "elsewhere");

    JsonNode response = JSON.readTree(post(review.toString()).body()).get("response");

    assertThat(response.has("patch")).isFalse();
  }

  @Test
  void malformedAndOversizedRequestsAreRefused() throws Exception {
    assertThat(post("{ not json").statusCode()).isEqualTo(400);
    assertThat(post("{\"kind\":\"AdmissionReview\"}").statusCode()).isEqualTo(400);
    String huge = "{\"pad\":\"" + "x".repeat(AdmissionServer.MAX_REQUEST_BYTES) + "\"}";
    assertThat(post(huge).statusCode()).isEqualTo(413);
    // The server keeps serving after bad requests.
    String good = Files.readString(Path.of("src/test/resources/admission/create-app-pod.json"));
    assertThat(post(good).statusCode()).isEqualTo(200);
  }

  private HttpResponse<String> post(String body) throws Exception {
    URI uri = URI.create("https://localhost:" + server.address().getPort() + AdmissionServer.PATH);
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
