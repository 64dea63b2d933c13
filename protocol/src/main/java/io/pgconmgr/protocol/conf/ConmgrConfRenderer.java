package io.pgconmgr.protocol.conf;

import static io.pgconmgr.protocol.conf.ConmgrParameters.*;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Writes a {@link ConmgrConf} as conmgr.conf text: every parameter, defaults included, in a fixed
 * order, so equal models give identical text (the operator hashes it to roll pods). Reading the
 * text back with {@link ConmgrConfParser} gives an equal model for every model the validator accepts.
 */
public final class ConmgrConfRenderer {

  private static final String HEADER = """
      # conmgr.conf: settings of the pgconmgr connection manager sidecar.
      # Written by pgconmgr; changes made here are lost when it is written again.
      # Syntax: name = value, one per line; '#' starts a comment; strings in single quotes.
      """;

  private ConmgrConfRenderer() {
  }

  /** The whole file. Extra listeners are numbered 0, 1, ... in list order. */
  public static String render(ConmgrConf conf) {
    StringBuilder out = new StringBuilder(HEADER);

    section(out, "Client listeners");
    line(out, PORT, Integer.toString(conf.port()));
    line(out, TARGET_SESSION_ATTRS, conf.targetSessionAttrs().confName());
    line(out, LISTEN_ADDRESSES, ConfFile.quote(conf.listenAddresses()));
    List<Listener> listeners = conf.listeners();
    for (int i = 0; i < listeners.size(); i++) {
      line(out, LISTENER_PORT + i, Integer.toString(listeners.get(i).port()));
      line(out, LISTENER_TARGET_SESSION_ATTRS + i, listeners.get(i).target().confName());
    }
    line(out, MAX_CONNECTIONS, Integer.toString(conf.maxConnections()));
    line(out, ROUTE_WAIT_TIMEOUT, Integer.toString(conf.routeWaitTimeoutMs()));
    line(out, HTTP_PORT, Integer.toString(conf.httpPort()));
    if (!conf.kernelRelaySocket().isEmpty()) {
      line(out, KERNEL_RELAY_SOCKET, ConfFile.quote(conf.kernelRelaySocket()));
    }

    section(out, "Backend instances");
    for (BackendInstance b : conf.instances()) {
      int n = b.number();
      if (b.host() != null) {
        line(out, BACKEND_HOST + n, ConfFile.quote(b.host()));
      }
      if (b.hostaddr() != null) {
        line(out, BACKEND_HOSTADDR + n, ConfFile.quote(b.hostaddr()));
      }
      line(out, BACKEND_PORT + n, Integer.toString(b.port()));
      line(out, WATCHDOG_PORT + n, Integer.toString(b.watchdogPort()));
    }

    section(out, "Heartbeat monitoring (seconds)");
    line(out, HEARTBEAT_INTERVAL, Integer.toString(conf.heartbeatIntervalSeconds()));
    line(out, HEARTBEAT_TIMEOUT, Integer.toString(conf.heartbeatTimeoutSeconds()));
    line(out, HEARTBEAT_CONNECT_INTERVAL, Integer.toString(conf.heartbeatConnectIntervalSeconds()));
    line(out, HEARTBEAT_CONNECT_TIMEOUT, Integer.toString(conf.heartbeatConnectTimeoutSeconds()));

    section(out, "Logging");
    String destinations = conf.logDestinations().stream().sorted()
        .map(d -> d.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(","));
    line(out, LOG_DESTINATION, ConfFile.quote(destinations));
    line(out, SYSLOG_FACILITY, conf.syslogFacility().name());
    line(out, SYSLOG_IDENT, ConfFile.quote(conf.syslogIdent()));
    line(out, LOG_MIN_MESSAGES, conf.logMinMessages().name());
    return out.toString();
  }

  private static void section(StringBuilder out, String title) {
    out.append("\n# ").append(title).append('\n');
  }

  private static void line(StringBuilder out, String name, String value) {
    out.append(name).append(" = ").append(value).append('\n');
  }
}
