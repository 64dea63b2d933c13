package io.pgconmgr.watchdog;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Validated watchdog settings (SPEC 2.2 plus our own, documented in docs/watchdog.md). Built from
 * a settings file by {@link SettingsFile} or in code through {@link #builder(String)}.
 *
 * @param listenAddress           address the heartbeat and HTTP servers bind; {@code *} = all
 * @param port                    heartbeat port ({@code watchdog.port}); 0 picks a free port
 * @param httpPort                port of /live, /ready, /metrics, /sessions; 0 picks a free port
 * @param checkAttrIntervalMs     how often the attributes are checked
 * @param checkTimeoutMs          a check (or connect) taking longer fails; a failure on the open
 *                                connection is retried once on a new one before "unreachable"
 * @param maxHeartbeatConnections sessions accepted at once; -1 = the instance's max_connections
 * @param conninfo                how to reach the local instance
 * @param statFile                CSV behind pgx_stat_watchdog, or null for none
 * @param stateFile               peers remembered across restarts, or null for none
 * @param sslCertFile             PEM certificate (chain) of the heartbeat server; null = no TLS
 * @param sslKeyFile              PEM (PKCS#8) key of that certificate
 * @param sslCaFile               PEM CA certificates a client certificate must chain to
 */
public record WatchdogSettings(
    String listenAddress,
    int port,
    int httpPort,
    int checkAttrIntervalMs,
    int checkTimeoutMs,
    int maxHeartbeatConnections,
    ConnInfo conninfo,
    Path statFile,
    Path stateFile,
    Path sslCertFile,
    Path sslKeyFile,
    Path sslCaFile) {

  public static final int DEFAULT_PORT = 27545;
  public static final int DEFAULT_HTTP_PORT = 27548;
  public static final int DEFAULT_CHECK_ATTR_INTERVAL_MS = 1000;
  public static final int DEFAULT_CHECK_TIMEOUT_MS = 5000;
  /** {@link #maxHeartbeatConnections} value meaning "the instance's max_connections". */
  public static final int MAX_FROM_INSTANCE = -1;

  public WatchdogSettings {
    Objects.requireNonNull(listenAddress, "listenAddress");
    Objects.requireNonNull(conninfo, "conninfo");
    checkRange("watchdog.port", port, 0, 65535);
    checkRange("watchdog.http_port", httpPort, 0, 65535);
    checkRange("watchdog.check_attr_interval", checkAttrIntervalMs, 1, Integer.MAX_VALUE);
    checkRange("watchdog.check_timeout", checkTimeoutMs, 1, Integer.MAX_VALUE);
    checkRange("watchdog.max_heartbeat_connections", maxHeartbeatConnections, -1,
        Integer.MAX_VALUE);
    int tlsFiles = (sslCertFile != null ? 1 : 0) + (sslKeyFile != null ? 1 : 0)
        + (sslCaFile != null ? 1 : 0);
    if (tlsFiles != 0 && tlsFiles != 3) {
      throw new IllegalArgumentException("TLS needs all of watchdog.ssl_cert_file,"
          + " watchdog.ssl_key_file and watchdog.ssl_ca_file (clients must present a"
          + " certificate)");
    }
  }

  /** Whether heartbeat sessions use mutual TLS. */
  public boolean tls() {
    return sslCertFile != null;
  }

  static void checkRange(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(name + " must be between " + min + " and " + max
          + ", not " + value);
    }
  }

  /** Settings with every default, reaching the instance through {@code conninfo}. */
  public static Builder builder(String conninfo) {
    return new Builder(ConnInfo.parse(conninfo));
  }

  public Builder toBuilder() {
    return new Builder(conninfo).listenAddress(listenAddress).port(port).httpPort(httpPort)
        .checkAttrIntervalMs(checkAttrIntervalMs).checkTimeoutMs(checkTimeoutMs)
        .maxHeartbeatConnections(maxHeartbeatConnections).statFile(statFile).stateFile(stateFile)
        .tls(sslCertFile, sslKeyFile, sslCaFile);
  }

  /** Builder for in-process watchdogs (tests, embedding). */
  public static final class Builder {
    private final ConnInfo conninfo;
    private String listenAddress = "*";
    private int port = DEFAULT_PORT;
    private int httpPort = DEFAULT_HTTP_PORT;
    private int checkAttrIntervalMs = DEFAULT_CHECK_ATTR_INTERVAL_MS;
    private int checkTimeoutMs = DEFAULT_CHECK_TIMEOUT_MS;
    private int maxHeartbeatConnections = MAX_FROM_INSTANCE;
    private Path statFile;
    private Path stateFile;
    private Path sslCertFile;
    private Path sslKeyFile;
    private Path sslCaFile;

    private Builder(ConnInfo conninfo) {
      this.conninfo = conninfo;
    }

    public Builder listenAddress(String v) {
      listenAddress = v.toLowerCase(Locale.ROOT);
      return this;
    }

    public Builder port(int v) {
      port = v;
      return this;
    }

    public Builder httpPort(int v) {
      httpPort = v;
      return this;
    }

    public Builder checkAttrIntervalMs(int v) {
      checkAttrIntervalMs = v;
      return this;
    }

    public Builder checkTimeoutMs(int v) {
      checkTimeoutMs = v;
      return this;
    }

    public Builder maxHeartbeatConnections(int v) {
      maxHeartbeatConnections = v;
      return this;
    }

    public Builder statFile(Path v) {
      statFile = v;
      return this;
    }

    public Builder stateFile(Path v) {
      stateFile = v;
      return this;
    }

    /** Mutual TLS on the heartbeat port: all three or none (null). */
    public Builder tls(Path certFile, Path keyFile, Path caFile) {
      sslCertFile = certFile;
      sslKeyFile = keyFile;
      sslCaFile = caFile;
      return this;
    }

    Builder sslCertFile(Path v) {
      sslCertFile = v;
      return this;
    }

    Builder sslKeyFile(Path v) {
      sslKeyFile = v;
      return this;
    }

    Builder sslCaFile(Path v) {
      sslCaFile = v;
      return this;
    }

    public WatchdogSettings build() {
      return new WatchdogSettings(listenAddress, port, httpPort, checkAttrIntervalMs,
          checkTimeoutMs, maxHeartbeatConnections, conninfo, statFile, stateFile, sslCertFile,
          sslKeyFile, sslCaFile);
    }
  }
}
