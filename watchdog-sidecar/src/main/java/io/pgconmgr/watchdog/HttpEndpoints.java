package io.pgconmgr.watchdog;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Health, metrics and session listing over HTTP: /live, /ready (the instance answers),
 * /metrics (Prometheus), /sessions (pgx_stat_watchdog as JSON), /attributes.
 */
final class HttpEndpoints implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  HttpEndpoints(InetSocketAddress address, WatchdogMetrics metrics,
      Supplier<Attributes> attributes, Supplier<List<PeerSession>> sessions) throws IOException {
    server = HttpServer.create(address, 64);
    executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "watchdog-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/live", ex -> send(ex, 200, "text/plain", "ok\n"));
    server.createContext("/ready", ex -> {
      boolean up = attributes.get().reachable();
      send(ex, up ? 200 : 503, "text/plain", up ? "ok\n" : "postgresql unreachable\n");
    });
    server.createContext("/metrics", ex -> send(ex, 200,
        "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
    server.createContext("/sessions", ex -> send(ex, 200, "application/json",
        sessionsJson(sessions.get())));
    server.createContext("/attributes", ex -> send(ex, 200, "application/json",
        attributesJson(attributes.get())));
    server.start();
  }

  InetSocketAddress address() {
    return server.getAddress();
  }

  static String sessionsJson(List<PeerSession> sessions) {
    StringBuilder sb = new StringBuilder("[");
    for (PeerSession s : sessions) {
      sb.append(sb.length() > 1 ? ",\n " : "\n ")
          .append("{\"conmgr_addr\":\"").append(s.address().getHostAddress())
          .append("\",\"conmgr_port\":").append(s.port())
          .append(",\"heartbeat_interval\":").append(SessionFiles.ceilSeconds(s.heartbeatIntervalMs()))
          .append(",\"heartbeat_timeout\":").append(SessionFiles.ceilSeconds(s.heartbeatTimeoutMs()))
          .append(",\"heartbeat_interval_ms\":").append(s.heartbeatIntervalMs())
          .append(",\"heartbeat_timeout_ms\":").append(s.heartbeatTimeoutMs())
          .append(",\"peer_name\":\"").append(jsonEscape(s.peerName()))
          .append("\",\"connected_at\":\"").append(s.connectedAt()).append("\"}");
    }
    return sb.append(sessions.isEmpty() ? "]\n" : "\n]\n").toString();
  }

  static String attributesJson(Attributes a) {
    return "{\"reachable\":" + a.reachable() + ",\"in_recovery\":" + a.inRecovery()
        + ",\"default_transaction_read_only\":" + a.defaultTransactionReadOnly()
        + ",\"timeline\":" + a.timeline() + ",\"system_identifier\":\"" + a.systemIdentifier()
        + "\",\"replay_lag_ms\":" + a.replayLagMs() + ",\"server_version_num\":"
        + a.serverVersionNum() + "}\n";
  }

  private static String jsonEscape(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
