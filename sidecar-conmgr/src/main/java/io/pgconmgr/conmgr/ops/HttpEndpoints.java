package io.pgconmgr.conmgr.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code GET /live}, {@code /ready}, {@code /status} and {@code /metrics} on {@code http_port}, bound on
 * all interfaces so the kubelet's probes and Prometheus reach it through the pod IP.
 */
public final class HttpEndpoints implements AutoCloseable {

  private final HttpServer server;

  /**
   * @param ready   readiness: the primary is known (or conmgr was started with -W)
   * @param why     text explaining readiness (served with both 200 and 503)
   * @param status  the instance table as text
   * @param metrics the Prometheus exposition
   */
  public HttpEndpoints(int port, BooleanSupplier live, BooleanSupplier ready, Supplier<String> why,
      Supplier<String> status, Supplier<String> metrics) throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 16);
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "conmgr-http");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/live", ex -> reply(ex, live.getAsBoolean() ? 200 : 503,
        live.getAsBoolean() ? "live\n" : "stopping\n", "text/plain; charset=utf-8"));
    server.createContext("/ready", ex -> reply(ex, ready.getAsBoolean() ? 200 : 503, why.get() + "\n",
        "text/plain; charset=utf-8"));
    server.createContext("/status", ex -> reply(ex, 200, status.get(), "text/plain; charset=utf-8"));
    server.createContext("/metrics", ex -> reply(ex, 200, metrics.get(), "text/plain; version=0.0.4; charset=utf-8"));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void reply(HttpExchange ex, int code, String body, String type) throws IOException {
    try (ex) {
      if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", type);
      if ("HEAD".equals(ex.getRequestMethod())) {
        ex.sendResponseHeaders(code, -1);
        return;
      }
      ex.sendResponseHeaders(code, bytes.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
