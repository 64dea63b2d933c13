package io.pgconmgr.operator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Plain HTTP for the kubelet and Prometheus: {@code /healthz} (liveness), {@code /readyz} (readiness,
 * with the reason when not ready) and {@code /metrics} (Prometheus text, JOSDK metrics included).
 */
public final class HealthAndMetricsServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  /**
   * @param live  null when alive, else what is wrong
   * @param ready null when ready, else what is missing
   */
  public HealthAndMetricsServer(InetSocketAddress bind, PrometheusMeterRegistry registry, Supplier<String> live,
      Supplier<String> ready) throws IOException {
    server = HttpServer.create(bind, 16);
    executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "health-metrics");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/healthz", e -> check(e, live.get()));
    server.createContext("/readyz", e -> check(e, ready.get()));
    server.createContext("/metrics", e -> reply(e, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
  }

  public HealthAndMetricsServer start() {
    server.start();
    return this;
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private static void check(HttpExchange e, String problem) throws IOException {
    if (problem == null) {
      reply(e, 200, "text/plain; charset=utf-8", "ok\n");
    } else {
      reply(e, 503, "text/plain; charset=utf-8", problem + "\n");
    }
  }

  private static void reply(HttpExchange e, int status, String type, String body) throws IOException {
    try (e) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      e.getResponseHeaders().set("Content-Type", type);
      e.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = e.getResponseBody()) {
        out.write(bytes);
      }
    }
  }
}
