package io.pgconmgr.protocol.conf;

import io.pgconmgr.protocol.conf.ConmgrConf.LogDestination;
import io.pgconmgr.protocol.conf.ConmgrConf.LogLevel;
import io.pgconmgr.protocol.conf.ConmgrConf.SyslogFacility;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Builds a {@link ConmgrConf} starting from the defaults of every parameter, so callers (the
 * parser, the operator, tests) only set what differs. It does not validate: see {@link ConmgrConfValidator}.
 */
public final class ConmgrConfBuilder {

  public static final TargetSessionAttrs DEFAULT_TARGET_SESSION_ATTRS = TargetSessionAttrs.READ_WRITE;
  public static final String DEFAULT_LISTEN_ADDRESSES = "127.0.0.1";
  public static final int DEFAULT_HEARTBEAT_INTERVAL = 10;
  public static final int DEFAULT_HEARTBEAT_TIMEOUT = 20;
  public static final int DEFAULT_HEARTBEAT_CONNECT_INTERVAL = 1;
  public static final int DEFAULT_HEARTBEAT_CONNECT_TIMEOUT = 10;
  public static final Set<LogDestination> DEFAULT_LOG_DESTINATIONS = Set.of(LogDestination.STDERR);
  public static final SyslogFacility DEFAULT_SYSLOG_FACILITY = SyslogFacility.LOCAL0;
  public static final String DEFAULT_SYSLOG_IDENT = "conmgr";
  public static final LogLevel DEFAULT_LOG_MIN_MESSAGES = LogLevel.WARNING;
  public static final int DEFAULT_MAX_CONNECTIONS = 0;
  public static final int DEFAULT_ROUTE_WAIT_TIMEOUT_MS = 5000;

  private int port = ConmgrConf.DEFAULT_PORT;
  private TargetSessionAttrs targetSessionAttrs = DEFAULT_TARGET_SESSION_ATTRS;
  private final List<Listener> listeners = new ArrayList<>();
  private String listenAddresses = DEFAULT_LISTEN_ADDRESSES;
  private final List<BackendInstance> instances = new ArrayList<>();
  private int heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
  private int heartbeatTimeout = DEFAULT_HEARTBEAT_TIMEOUT;
  private int heartbeatConnectInterval = DEFAULT_HEARTBEAT_CONNECT_INTERVAL;
  private int heartbeatConnectTimeout = DEFAULT_HEARTBEAT_CONNECT_TIMEOUT;
  private Set<LogDestination> logDestinations = DEFAULT_LOG_DESTINATIONS;
  private SyslogFacility syslogFacility = DEFAULT_SYSLOG_FACILITY;
  private String syslogIdent = DEFAULT_SYSLOG_IDENT;
  private LogLevel logMinMessages = DEFAULT_LOG_MIN_MESSAGES;
  private int maxConnections = DEFAULT_MAX_CONNECTIONS;
  private int httpPort = ConmgrConf.DEFAULT_HTTP_PORT;
  private int routeWaitTimeoutMs = DEFAULT_ROUTE_WAIT_TIMEOUT_MS;
  private String kernelRelaySocket = "";

  /** An instance with the default backend and watchdog ports. */
  public static BackendInstance instance(int number, String host) {
    return new BackendInstance(number, host, null, ConmgrConf.DEFAULT_BACKEND_PORT, ConmgrConf.DEFAULT_WATCHDOG_PORT);
  }

  public ConmgrConfBuilder port(int v) { port = v; return this; }
  public ConmgrConfBuilder targetSessionAttrs(TargetSessionAttrs v) { targetSessionAttrs = v; return this; }
  public ConmgrConfBuilder listener(Listener v) { listeners.add(v); return this; }
  public ConmgrConfBuilder listeners(List<Listener> v) { listeners.clear(); listeners.addAll(v); return this; }
  public ConmgrConfBuilder listenAddresses(String v) { listenAddresses = v; return this; }
  public ConmgrConfBuilder instance(BackendInstance v) { instances.add(v); return this; }
  public ConmgrConfBuilder instances(List<BackendInstance> v) { instances.clear(); instances.addAll(v); return this; }
  public ConmgrConfBuilder heartbeatIntervalSeconds(int v) { heartbeatInterval = v; return this; }
  public ConmgrConfBuilder heartbeatTimeoutSeconds(int v) { heartbeatTimeout = v; return this; }
  public ConmgrConfBuilder heartbeatConnectIntervalSeconds(int v) { heartbeatConnectInterval = v; return this; }
  public ConmgrConfBuilder heartbeatConnectTimeoutSeconds(int v) { heartbeatConnectTimeout = v; return this; }
  public ConmgrConfBuilder logDestinations(Set<LogDestination> v) { logDestinations = Set.copyOf(v); return this; }
  public ConmgrConfBuilder syslogFacility(SyslogFacility v) { syslogFacility = v; return this; }
  public ConmgrConfBuilder syslogIdent(String v) { syslogIdent = v; return this; }
  public ConmgrConfBuilder logMinMessages(LogLevel v) { logMinMessages = v; return this; }
  public ConmgrConfBuilder maxConnections(int v) { maxConnections = v; return this; }
  public ConmgrConfBuilder httpPort(int v) { httpPort = v; return this; }
  public ConmgrConfBuilder routeWaitTimeoutMs(int v) { routeWaitTimeoutMs = v; return this; }
  public ConmgrConfBuilder kernelRelaySocket(String v) { kernelRelaySocket = v; return this; }

  /** The model; instances are sorted by number as the model's contract asks. */
  public ConmgrConf build() {
    List<BackendInstance> sorted = new ArrayList<>(instances);
    sorted.sort((a, b) -> Integer.compare(a.number(), b.number()));
    return new ConmgrConf(port, targetSessionAttrs, listeners, listenAddresses, sorted,
        heartbeatInterval, heartbeatTimeout, heartbeatConnectInterval, heartbeatConnectTimeout,
        logDestinations, syslogFacility, syslogIdent, logMinMessages, maxConnections, httpPort,
        routeWaitTimeoutMs, kernelRelaySocket);
  }
}
