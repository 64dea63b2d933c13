package io.pgconmgr.protocol.conf;

import java.util.List;
import java.util.Set;

/**
 * The model of conmgr.conf: every parameter of the seed with its default, plus the extensions
 * pgconmgr adds (listeners, HTTP port, routing wait). The parser builds it, the operator builds it
 * from an InstanceSet, the renderer writes it back; parsing the rendered text gives an equal model.
 *
 * <p>Durations use the seed's unit, seconds, except {@code routeWaitTimeoutMs}.
 *
 * @param port                            {@code port}: default client listener (27546)
 * @param targetSessionAttrs              {@code target_session_attrs}: target of the default listener (read-write)
 * @param listeners                       {@code listener_port<N>} / {@code listener_target_session_attrs<N>}: extra listeners
 * @param listenAddresses                 {@code listen_addresses}: where listeners bind ('127.0.0.1')
 * @param instances                       the backend instances, sorted by instance number
 * @param heartbeatIntervalSeconds        {@code heartbeat_interval} (10, >= 1)
 * @param heartbeatTimeoutSeconds         {@code heartbeat_timeout} (20, >= 1)
 * @param heartbeatConnectIntervalSeconds {@code heartbeat_connect_interval} (1, >= 1)
 * @param heartbeatConnectTimeoutSeconds  {@code heartbeat_connect_timeout} (10, >= 1)
 * @param logDestinations                 {@code log_destination} ('stderr'; may list syslog)
 * @param syslogFacility                  {@code syslog_facility} (LOCAL0)
 * @param syslogIdent                     {@code syslog_ident} ('conmgr')
 * @param logMinMessages                  {@code log_min_messages} (WARNING)
 * @param maxConnections                  {@code max_connections} (0 = unlimited)
 * @param httpPort                        {@code http_port}: /ready, /live, /metrics (27547; 0 disables)
 * @param routeWaitTimeoutMs              {@code route_wait_timeout}: how long a client waits for a matching instance (5000 ms)
 * @param kernelRelaySocket               {@code kernel_relay_socket}: the kernel relay agent's unix socket ('' = conmgr relays every connection itself)
 */
public record ConmgrConf(
    int port,
    TargetSessionAttrs targetSessionAttrs,
    List<Listener> listeners,
    String listenAddresses,
    List<BackendInstance> instances,
    int heartbeatIntervalSeconds,
    int heartbeatTimeoutSeconds,
    int heartbeatConnectIntervalSeconds,
    int heartbeatConnectTimeoutSeconds,
    Set<LogDestination> logDestinations,
    SyslogFacility syslogFacility,
    String syslogIdent,
    LogLevel logMinMessages,
    int maxConnections,
    int httpPort,
    int routeWaitTimeoutMs,
    String kernelRelaySocket) {

  public static final int DEFAULT_PORT = 27546;
  public static final int DEFAULT_BACKEND_PORT = 27500;
  public static final int DEFAULT_WATCHDOG_PORT = 27545;
  public static final int DEFAULT_HTTP_PORT = 27547;

  public ConmgrConf {
    listeners = List.copyOf(listeners);
    instances = List.copyOf(instances);
    logDestinations = Set.copyOf(logDestinations);
  }

  /** Without a kernel relay, as the operator renders it. */
  public ConmgrConf(int port, TargetSessionAttrs targetSessionAttrs, List<Listener> listeners, String listenAddresses,
      List<BackendInstance> instances, int heartbeatIntervalSeconds, int heartbeatTimeoutSeconds,
      int heartbeatConnectIntervalSeconds, int heartbeatConnectTimeoutSeconds, Set<LogDestination> logDestinations,
      SyslogFacility syslogFacility, String syslogIdent, LogLevel logMinMessages, int maxConnections, int httpPort,
      int routeWaitTimeoutMs) {
    this(port, targetSessionAttrs, listeners, listenAddresses, instances, heartbeatIntervalSeconds,
        heartbeatTimeoutSeconds, heartbeatConnectIntervalSeconds, heartbeatConnectTimeoutSeconds, logDestinations,
        syslogFacility, syslogIdent, logMinMessages, maxConnections, httpPort, routeWaitTimeoutMs, "");
  }

  /** The default listener followed by the extra ones. */
  public List<Listener> allListeners() {
    var all = new java.util.ArrayList<Listener>();
    all.add(new Listener(port, targetSessionAttrs));
    all.addAll(listeners);
    return List.copyOf(all);
  }

  /** Where syslog output may go. */
  public enum LogDestination { STDERR, SYSLOG }

  /** {@code syslog_facility} values. */
  public enum SyslogFacility { LOCAL0, LOCAL1, LOCAL2, LOCAL3, LOCAL4, LOCAL5, LOCAL6, LOCAL7 }

  /** {@code log_min_messages}, in PostgreSQL's server order: a level lets through itself and those after it. */
  public enum LogLevel { DEBUG, INFO, NOTICE, WARNING, ERROR, LOG, FATAL, PANIC }
}
