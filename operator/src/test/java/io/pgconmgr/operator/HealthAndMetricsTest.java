package io.pgconmgr.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.RuntimeInfo;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.InstanceSpec;
import io.pgconmgr.operator.status.HeartbeatObserver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The operator's /healthz, /readyz and /metrics, with JOSDK's metrics going through Micrometer. */
@EnableKubernetesMockClient(crud = true)
class HealthAndMetricsTest {
  KubernetesClient client;

  @Test
  void readyOnceStartedAndMetricsIncludeReconciliations() throws Exception {
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ControllerWiring.Built operator = new ControllerWiring(client, false, Set.of(),
        changed -> new HeartbeatObserver(changed, meters), MicrometerMetrics.withoutPerResourceMetrics(meters)).build();
    RuntimeInfo runtime = operator.operator().getRuntimeInfo();
    try (operator; var server = new HealthAndMetricsServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        meters, () -> runtime.isStarted() ? null : "operator not started",
        () -> runtime.isStarted() && runtime.allEventSourcesAreHealthy() ? null : "operator not started").start()) {
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + server.address().getPort();

      HttpResponse<String> notYet = get(http, base + "/readyz");
      assertThat(notYet.statusCode()).isEqualTo(503);
      assertThat(notYet.body()).contains("operator not started");

      operator.start();
      InstanceSet set = new InstanceSet();
      set.getMetadata().setName("metrics-db");
      set.getMetadata().setNamespace("default");
      set.setSpec(new InstanceSetSpec());
      set.getSpec().getInstances().add(new InstanceSpec(null, "127.0.0.1", 5432, 1));
      client.resource(set).create();

      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        assertThat(get(http, base + "/readyz").statusCode()).isEqualTo(200);
        String metrics = get(http, base + "/metrics").body();
        assertThat(metrics).contains("operator_sdk_reconciliations_success_total");
        assertThat(metrics).contains("pgconmgr_operator_heartbeat_sessions 1.0");
      });
      assertThat(get(http, base + "/healthz").statusCode()).isEqualTo(200);
    }
  }

  private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
