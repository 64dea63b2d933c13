package io.pgconmgr.operator.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgconmgr.operator.EventRecorder;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.SidecarImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutating admission webhook over HTTPS: {@code POST /mutate-pods} takes an AdmissionReview for a
 * pod, runs the {@link Injector} on CREATE and answers with its JSON Patch. Every pod is admitted: a pod
 * that asked for pgconmgr and was skipped gets a Warning event saying why.
 */
public final class AdmissionServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AdmissionServer.class);
  public static final String PATH = "/mutate-pods";
  /** Larger than any pod the API server accepts (its own request limit is 3 MiB of JSON). */
  public static final int MAX_REQUEST_BYTES = 4 * 1024 * 1024;
  private static final ObjectMapper JSON = Serialization.jsonMapper();

  private final HttpsServer server;
  private final ExecutorService executor;
  private final ExecutorService events;
  private final Function<String, Collection<InstanceSet>> setsInNamespace;
  private final SidecarImages images;
  private final EventRecorder recorder;
  private final MeterRegistry meters;

  /**
   * @param setsInNamespace the InstanceSets of a namespace (an informer cache in production)
   * @param images          the operator's sidecar images, for sets whose spec.images leaves one out
   * @param recorder        where skip events go; null records none
   */
  public AdmissionServer(InetSocketAddress bind, SSLContext tls, Function<String, Collection<InstanceSet>> setsInNamespace,
      SidecarImages images, EventRecorder recorder, MeterRegistry meters) throws IOException {
    this.setsInNamespace = setsInNamespace;
    this.images = images;
    this.recorder = recorder;
    this.meters = meters;
    this.server = HttpsServer.create(bind, 64);
    this.server.setHttpsConfigurator(new HttpsConfigurator(tls));
    this.executor = Executors.newFixedThreadPool(4, r -> daemon(r, "admission"));
    this.events = Executors.newSingleThreadExecutor(r -> daemon(r, "admission-events"));
    this.server.setExecutor(executor);
    this.server.createContext(PATH, this::handle);
  }

  public AdmissionServer start() {
    server.start();
    LOG.info("admission webhook listening on https://{}{}", server.getAddress(), PATH);
    return this;
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    events.shutdown();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"POST".equals(exchange.getRequestMethod())) {
        reply(exchange, 405, "{\"error\":\"use POST with an AdmissionReview\"}");
        return;
      }
      byte[] body = readBounded(exchange.getRequestBody());
      if (body == null) {
        count("too_large");
        reply(exchange, 413, "{\"error\":\"request larger than " + MAX_REQUEST_BYTES + " bytes\"}");
        return;
      }
      JsonNode review;
      try {
        review = JSON.readTree(body);
      } catch (IOException e) {
        count("bad_request");
        reply(exchange, 400, "{\"error\":\"not JSON: " + escape(e.getMessage()) + "\"}");
        return;
      }
      JsonNode request = review == null ? null : review.get("request");
      if (request == null || !request.hasNonNull("uid")) {
        count("bad_request");
        reply(exchange, 400, "{\"error\":\"not an AdmissionReview: request.uid missing\"}");
        return;
      }
      reply(exchange, 200, JSON.writeValueAsString(review(review, admit(request))));
    }
  }

  /** The AdmissionResponse for one request; never denies. */
  ObjectNode admit(JsonNode request) {
    ObjectNode response = JSON.createObjectNode();
    response.put("uid", request.get("uid").asText());
    response.put("allowed", true);
    String operation = request.path("operation").asText();
    String kind = request.path("kind").path("kind").asText();
    if (!"CREATE".equals(operation) || !"Pod".equals(kind)) {
      count("ignored");
      return response;
    }
    String namespace = request.path("namespace").asText("");
    try {
      Pod pod = JSON.treeToValue(request.get("object"), Pod.class);
      if (namespace.isEmpty()) {
        namespace = Objects.requireNonNullElse(pod.getMetadata().getNamespace(), "");
      }
      InjectionResult result = Injector.inject(pod, namespace, setsInNamespace.apply(namespace), images);
      if (result instanceof InjectionResult.Patched patched) {
        count("injected");
        response.put("patchType", "JSONPatch");
        response.put("patch", Base64.getEncoder().encodeToString(JSON.writeValueAsBytes(patched.patch())));
        LOG.info("injected {} into pod {}/{}", patched.summary(), namespace, podName(pod));
      } else if (result instanceof InjectionResult.Skipped skipped) {
        count("skipped");
        if (skipped.notable()) {
          LOG.info("pod {}/{} admitted without sidecars: {}", namespace, podName(pod), skipped.reasons());
          if (!request.path("dryRun").asBoolean(false)) {
            recordSkip(namespace, pod, skipped.reasons());
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // The pod is admitted unchanged: an injector failure must not stop workloads from starting.
      count("error");
      LOG.error("pod admitted unchanged, injection failed in namespace {}", namespace, e);
      response.putArray("warnings").add("pgconmgr did not inject sidecars: " + e.getMessage());
    }
    return response;
  }

  private void recordSkip(String namespace, Pod pod, List<String> reasons) {
    if (recorder == null) {
      return;
    }
    ObjectReference ref = new ObjectReferenceBuilder().withKind("Pod").withApiVersion("v1")
        .withNamespace(namespace).withName(podName(pod)).build();
    String message = "pgconmgr sidecars not injected: " + String.join("; ", reasons);
    events.execute(() -> recorder.record(ref, EventRecorder.WARNING, "InjectionSkipped", message));
  }

  private static ObjectNode review(JsonNode request, ObjectNode response) {
    ObjectNode out = JSON.createObjectNode();
    out.put("apiVersion", request.path("apiVersion").asText("admission.k8s.io/v1"));
    out.put("kind", "AdmissionReview");
    out.set("response", response);
    return out;
  }

  /** A pod created through a controller has only generateName at admission time. */
  private static String podName(Pod pod) {
    String name = pod.getMetadata().getName();
    return name != null && !name.isEmpty() ? name : pod.getMetadata().getGenerateName();
  }

  /** The body, or null when it exceeds {@link #MAX_REQUEST_BYTES}. */
  private static byte[] readBounded(InputStream in) throws IOException {
    byte[] body = in.readNBytes(MAX_REQUEST_BYTES + 1);
    return body.length > MAX_REQUEST_BYTES ? null : body;
  }

  private void count(String result) {
    meters.counter("pgconmgr.webhook.admissions", "result", result).increment();
  }

  private static void reply(HttpExchange exchange, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static String escape(String s) {
    return s == null ? "" : s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ");
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
