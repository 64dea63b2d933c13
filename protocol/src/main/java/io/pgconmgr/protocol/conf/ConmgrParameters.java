package io.pgconmgr.protocol.conf;

import java.util.List;

/** The names and integer ranges of conmgr.conf, shared by the parser, validator and renderer. */
final class ConmgrParameters {

  static final String PORT = "port";
  static final String TARGET_SESSION_ATTRS = "target_session_attrs";
  static final String LISTEN_ADDRESSES = "listen_addresses";
  static final String HEARTBEAT_INTERVAL = "heartbeat_interval";
  static final String HEARTBEAT_TIMEOUT = "heartbeat_timeout";
  static final String HEARTBEAT_CONNECT_INTERVAL = "heartbeat_connect_interval";
  static final String HEARTBEAT_CONNECT_TIMEOUT = "heartbeat_connect_timeout";
  static final String LOG_DESTINATION = "log_destination";
  static final String SYSLOG_FACILITY = "syslog_facility";
  static final String SYSLOG_IDENT = "syslog_ident";
  static final String LOG_MIN_MESSAGES = "log_min_messages";
  static final String MAX_CONNECTIONS = "max_connections";
  static final String HTTP_PORT = "http_port";
  static final String ROUTE_WAIT_TIMEOUT = "route_wait_timeout";
  static final String KERNEL_RELAY_SOCKET = "kernel_relay_socket";

  /** Numbered families: the name is followed by an instance (or listener) number. */
  static final String BACKEND_HOST = "backend_host";
  static final String BACKEND_HOSTADDR = "backend_hostaddr";
  static final String BACKEND_PORT = "backend_port";
  static final String WATCHDOG_PORT = "watchdog_port";
  static final String LISTENER_PORT = "listener_port";
  static final String LISTENER_TARGET_SESSION_ATTRS = "listener_target_session_attrs";

  static final List<String> SINGLE = List.of(PORT, TARGET_SESSION_ATTRS, LISTEN_ADDRESSES,
      HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT, HEARTBEAT_CONNECT_INTERVAL, HEARTBEAT_CONNECT_TIMEOUT,
      LOG_DESTINATION, SYSLOG_FACILITY, SYSLOG_IDENT, LOG_MIN_MESSAGES, MAX_CONNECTIONS, HTTP_PORT,
      ROUTE_WAIT_TIMEOUT, KERNEL_RELAY_SOCKET);
  static final List<String> NUMBERED = List.of(BACKEND_HOST, BACKEND_HOSTADDR, BACKEND_PORT,
      WATCHDOG_PORT, LISTENER_PORT, LISTENER_TARGET_SESSION_ATTRS);

  static final int MAX_PORT = 65535;
  static final int UNBOUNDED = Integer.MAX_VALUE;

  private ConmgrParameters() {
  }

  /** The smallest value an integer parameter (single name or family) accepts. */
  static int min(String parameter) {
    return switch (parameter) {
      case MAX_CONNECTIONS, HTTP_PORT, ROUTE_WAIT_TIMEOUT -> 0;
      default -> 1;
    };
  }

  /** The largest value an integer parameter (single name or family) accepts. */
  static int max(String parameter) {
    return switch (parameter) {
      case PORT, HTTP_PORT, BACKEND_PORT, WATCHDOG_PORT, LISTENER_PORT -> MAX_PORT;
      default -> UNBOUNDED;
    };
  }
}
