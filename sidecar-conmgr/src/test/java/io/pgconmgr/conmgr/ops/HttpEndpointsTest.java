package io.pgconmgr.conmgr.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.conmgr.Conmgr;
import io.pgconmgr.conmgr.TestConf;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class HttpEndpointsTest {

  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static ConmgrConf withHttp(ConmgrConf c) {
    return new ConmgrConf(c.port(), c.targetSessionAttrs(), c.listeners(), c.listenAddresses(), c.instances(),
        c.heartbeatIntervalSeconds(), c.heartbeatTimeoutSeconds(), c.heartbeatConnectIntervalSeconds(),
        c.heartbeatConnectTimeoutSeconds(), c.logDestinations(), c.syslogFacility(), c.syslogIdent(),
        c.logMinMessages(), c.maxConnections(), TestConf.freePort(), c.routeWaitTimeoutMs());
  }

  @Test
  void readyOnlyOnceAPrimaryIsKnownLiveAlwaysMetricsInPrometheusFormat() throws Exception {
    ConmgrConf conf = withHttp(TestConf.conf(List.of(TestConf.instance(0, 5432, 1), TestConf.instance(1, 5433, 1)),
        List.of(), 100, 0));
    try (Conmgr c = Conmgr.start(conf, new Conmgr.Options(null, false, false))) {
      int port = c.httpPort();
      assertThat(get(port, "/live").statusCode()).isEqualTo(200);
      HttpResponse<String> notReady = get(port, "/ready");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(notReady.body()).contains("no primary known yet", "instance 0 (127.0.0.1:5432)");

      c.table().linkUp(1, new Attributes(true, true, false, 1, 1, 0, 170006), null);
      assertThat(get(port, "/ready").statusCode()).as("a standby alone is not enough").isEqualTo(503);
      c.table().linkUp(0, new Attributes(true, false, false, 1, 1, -1, 170006), null);
      HttpResponse<String> ready = get(port, "/ready");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.body()).contains("primary is instance 0");
      assertThat(c.awaitReady(java.time.Duration.ofSeconds(1))).isTrue();

      assertThat(get(port, "/status").body()).contains("primary", "standby", "up");
      HttpResponse<String> metrics = get(port, "/metrics");
      assertThat(metrics.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
      assertThat(metrics.body()).contains("conmgr_links_up 2.0", "conmgr_instance_link_up{instance=\"0\"} 1.0",
          "conmgr_split_brain 0.0", "conmgr_instance_primary{instance=\"0\"} 1.0");
    }
  }

  @Test
  void withDashWReadyComesAtOnce() throws Exception {
    ConmgrConf conf = withHttp(TestConf.conf(List.of(TestConf.instance(0, 5432, 1)), List.of(), 100, 0));
    try (Conmgr c = Conmgr.start(conf, new Conmgr.Options(null, true, false))) {
      HttpResponse<String> ready = get(c.httpPort(), "/ready");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.body()).contains("-W");
    }
  }
}
