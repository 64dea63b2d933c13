package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.pgconmgr.protocol.heartbeat.HeartbeatProtocol;

/** The watchdog.* settings of the injected watchdog sidecar and how it reaches its local PostgreSQL. */
public class WatchdogSpec {
  public static final int DEFAULT_HTTP_PORT = 27548;
  /** A user or database name that goes into the conninfo string without quoting. */
  static final String CONNINFO_WORD = "^[^\\s'\\\\=]+$";

  @JsonPropertyDescription("Port the watchdog accepts conmgr heartbeats on (watchdog.port)")
  @Min(1)
  @Max(65535)
  @Default("27545")
  private Integer port = HeartbeatProtocol.DEFAULT_WATCHDOG_PORT;

  @JsonPropertyDescription("Port of the watchdog's /live, /ready and /metrics (watchdog.http_port)")
  @Min(1)
  @Max(65535)
  @Default("27548")
  private Integer httpPort = DEFAULT_HTTP_PORT;

  @JsonPropertyDescription("Milliseconds between two checks of the instance's attributes (watchdog.check_attr_interval)")
  @Min(1)
  @Default("1000")
  private Integer checkAttrInterval = 1000;

  @JsonPropertyDescription("Most conmgr heartbeat sessions the watchdog accepts; the instance's max_connections "
      + "when absent (watchdog.max_heartbeat_connections)")
  @Min(1)
  private Integer maxHeartbeatConnections;

  @JsonPropertyDescription("Database user of the watchdog's two connections (attribute checks, terminator); it "
      + "needs pg_signal_backend to terminate other users' backends")
  @Size(min = 1, max = 63)
  @Pattern(CONNINFO_WORD)
  @Default("postgres")
  private String user = "postgres";

  @JsonPropertyDescription("Database the watchdog connects to")
  @Size(min = 1, max = 63)
  @Pattern(CONNINFO_WORD)
  @Default("postgres")
  private String database = "postgres";

  public Integer getPort() { return port; }
  public void setPort(Integer port) { this.port = port; }
  public Integer getHttpPort() { return httpPort; }
  public void setHttpPort(Integer httpPort) { this.httpPort = httpPort; }
  public Integer getCheckAttrInterval() { return checkAttrInterval; }
  public void setCheckAttrInterval(Integer checkAttrInterval) { this.checkAttrInterval = checkAttrInterval; }
  public Integer getMaxHeartbeatConnections() { return maxHeartbeatConnections; }
  public void setMaxHeartbeatConnections(Integer maxHeartbeatConnections) { this.maxHeartbeatConnections = maxHeartbeatConnections; }
  public String getUser() { return user; }
  public void setUser(String user) { this.user = user; }
  public String getDatabase() { return database; }
  public void setDatabase(String database) { this.database = database; }
}
