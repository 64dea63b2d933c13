package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConf.LogLevel;
import io.pgconmgr.protocol.conf.ConmgrConf.SyslogFacility;
import java.util.ArrayList;
import java.util.List;

/** The conmgr.conf settings, camelCase of the file's names, with the seed's defaults and ranges. */
@ValidationRule(value = "self.heartbeatTimeout > self.heartbeatInterval",
    message = "heartbeatTimeout must be greater than heartbeatInterval, otherwise every heartbeat link is always down",
    reason = "FieldValueInvalid")
@ValidationRule(value = "self.listeners.all(l, l.port != self.port && l.port != self.httpPort)",
    message = "a listener port must differ from port and httpPort", reason = "FieldValueDuplicate")
@ValidationRule(value = "self.listeners.all(a, self.listeners.exists_one(b, b.port == a.port))",
    message = "listener ports must be unique", reason = "FieldValueDuplicate")
@ValidationRule(value = "self.port != self.httpPort", message = "port and httpPort must differ",
    reason = "FieldValueDuplicate")
public class ConmgrSpec {

  @JsonPropertyDescription("Port of the default client listener (port)")
  @Min(1)
  @Max(65535)
  @Default("27546")
  private Integer port = ConmgrConf.DEFAULT_PORT;

  @JsonPropertyDescription("Which instances clients of the default listener reach (target_session_attrs)")
  @Default("read-write")
  private SessionTarget targetSessionAttrs = SessionTarget.READ_WRITE;

  @JsonPropertyDescription("More client ports, each with its own target (listener_port<N>)")
  @Size(max = 16)
  @Default("[]")
  private List<ListenerSpec> listeners = new ArrayList<>();

  @JsonPropertyDescription("Where the listeners bind (listen_addresses); the pod's loopback by default")
  @Default("127.0.0.1")
  private String listenAddresses = "127.0.0.1";

  @JsonPropertyDescription("Seconds between heartbeats, both ways (heartbeat_interval)")
  @Min(1)
  @Default("10")
  private Integer heartbeatInterval = 10;

  @JsonPropertyDescription("Seconds without a heartbeat after which a link is down (heartbeat_timeout)")
  @Min(1)
  @Default("20")
  private Integer heartbeatTimeout = 20;

  @JsonPropertyDescription("Seconds between attempts to re-establish a heartbeat link (heartbeat_connect_interval)")
  @Min(1)
  @Default("1")
  private Integer heartbeatConnectInterval = 1;

  @JsonPropertyDescription("Seconds allowed for TCP connect plus the first exchange with a watchdog (heartbeat_connect_timeout)")
  @Min(1)
  @Default("10")
  private Integer heartbeatConnectTimeout = 10;

  @JsonPropertyDescription("Where conmgr logs (log_destination)")
  @Size(min = 1, max = 2)
  @Default("[\"stderr\"]")
  private List<LogDestination> logDestination = new ArrayList<>(List.of(LogDestination.STDERR));

  @JsonPropertyDescription("Syslog facility when logDestination includes syslog (syslog_facility)")
  @Default("LOCAL0")
  private SyslogFacility syslogFacility = SyslogFacility.LOCAL0;

  @JsonPropertyDescription("Program name in syslog (syslog_ident)")
  @Size(min = 1, max = 64)
  @Default("conmgr")
  private String syslogIdent = "conmgr";

  @JsonPropertyDescription("Lowest level logged (log_min_messages)")
  @Default("WARNING")
  private LogLevel logMinMessages = LogLevel.WARNING;

  @JsonPropertyDescription("Most simultaneous client connections, 0 for no limit (max_connections)")
  @Min(0)
  @Default("0")
  private Integer maxConnections = 0;

  @JsonPropertyDescription("Port of conmgr's /ready, /live and /metrics, probed by Kubernetes (http_port)")
  @Min(1)
  @Max(65535)
  @Default("27547")
  private Integer httpPort = ConmgrConf.DEFAULT_HTTP_PORT;

  @JsonPropertyDescription("Milliseconds a client waits for a matching instance during a failover before it gets "
      + "an error (route_wait_timeout)")
  @Min(0)
  @Default("5000")
  private Integer routeWaitTimeoutMs = 5000;

  public Integer getPort() { return port; }
  public void setPort(Integer port) { this.port = port; }
  public SessionTarget getTargetSessionAttrs() { return targetSessionAttrs; }
  public void setTargetSessionAttrs(SessionTarget targetSessionAttrs) { this.targetSessionAttrs = targetSessionAttrs; }
  public List<ListenerSpec> getListeners() { return listeners; }
  public void setListeners(List<ListenerSpec> listeners) { this.listeners = listeners == null ? new ArrayList<>() : listeners; }
  public String getListenAddresses() { return listenAddresses; }
  public void setListenAddresses(String listenAddresses) { this.listenAddresses = listenAddresses; }
  public Integer getHeartbeatInterval() { return heartbeatInterval; }
  public void setHeartbeatInterval(Integer heartbeatInterval) { this.heartbeatInterval = heartbeatInterval; }
  public Integer getHeartbeatTimeout() { return heartbeatTimeout; }
  public void setHeartbeatTimeout(Integer heartbeatTimeout) { this.heartbeatTimeout = heartbeatTimeout; }
  public Integer getHeartbeatConnectInterval() { return heartbeatConnectInterval; }
  public void setHeartbeatConnectInterval(Integer heartbeatConnectInterval) { this.heartbeatConnectInterval = heartbeatConnectInterval; }
  public Integer getHeartbeatConnectTimeout() { return heartbeatConnectTimeout; }
  public void setHeartbeatConnectTimeout(Integer heartbeatConnectTimeout) { this.heartbeatConnectTimeout = heartbeatConnectTimeout; }
  public List<LogDestination> getLogDestination() { return logDestination; }
  public void setLogDestination(List<LogDestination> logDestination) { this.logDestination = logDestination; }
  public SyslogFacility getSyslogFacility() { return syslogFacility; }
  public void setSyslogFacility(SyslogFacility syslogFacility) { this.syslogFacility = syslogFacility; }
  public String getSyslogIdent() { return syslogIdent; }
  public void setSyslogIdent(String syslogIdent) { this.syslogIdent = syslogIdent; }
  public LogLevel getLogMinMessages() { return logMinMessages; }
  public void setLogMinMessages(LogLevel logMinMessages) { this.logMinMessages = logMinMessages; }
  public Integer getMaxConnections() { return maxConnections; }
  public void setMaxConnections(Integer maxConnections) { this.maxConnections = maxConnections; }
  public Integer getHttpPort() { return httpPort; }
  public void setHttpPort(Integer httpPort) { this.httpPort = httpPort; }
  public Integer getRouteWaitTimeoutMs() { return routeWaitTimeoutMs; }
  public void setRouteWaitTimeoutMs(Integer routeWaitTimeoutMs) { this.routeWaitTimeoutMs = routeWaitTimeoutMs; }
}
