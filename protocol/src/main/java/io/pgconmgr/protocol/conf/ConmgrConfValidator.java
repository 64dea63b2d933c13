package io.pgconmgr.protocol.conf;

import static io.pgconmgr.protocol.conf.ConmgrParameters.*;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntUnaryOperator;
import java.util.regex.Pattern;

/**
 * The rules of conmgr.conf applied to a model, however it was built: the parser runs it on what it
 * read, the operator on what it derived from a custom resource. No name resolution happens here.
 */
public final class ConmgrConfValidator {

  /** sun_path holds 108 bytes, the last one the terminating zero. */
  static final int MAX_UNIX_SOCKET_PATH = 107;
  private static final Pattern IPV4 = Pattern.compile(
      "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
  private static final Pattern HOST_NAME = Pattern.compile(
      "[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\\.?");

  /**
   * What the rules found. A model with no errors can be used (and rendered, and read back equal);
   * warnings describe settings that load but probably do not do what the user wants.
   */
  public record Validation(List<ConfProblem> errors, List<ConfProblem> warnings) {
    public Validation {
      errors = List.copyOf(errors);
      warnings = List.copyOf(warnings);
    }

    public boolean isValid() {
      return errors.isEmpty();
    }

    /** Throws a {@link ConfException} with every error when there is any. */
    public void throwIfInvalid() throws ConfException {
      if (!errors.isEmpty()) {
        throw new ConfException(errors);
      }
    }
  }

  private ConmgrConfValidator() {
  }

  /** Checks a model; extra listeners are named {@code listener_port0}, {@code listener_port1}... in list order, as rendered. */
  public static Validation validate(ConmgrConf conf) {
    return validate(conf, i -> i);
  }

  /** Returns {@code conf} when it has no errors, else throws them all. */
  public static ConmgrConf requireValid(ConmgrConf conf) throws ConfException {
    validate(conf).throwIfInvalid();
    return conf;
  }

  /** As {@link #validate(ConmgrConf)}, with the file's number of the i-th extra listener. */
  static Validation validate(ConmgrConf conf, IntUnaryOperator listenerNumber) {
    List<ConfProblem> errors = new ArrayList<>();
    List<ConfProblem> warnings = new ArrayList<>();

    range(errors, PORT, conf.port());
    required(errors, TARGET_SESSION_ATTRS, conf.targetSessionAttrs());
    checkListenAddresses(errors, conf.listenAddresses());
    checkListeners(errors, conf, listenerNumber);
    checkInstances(errors, conf.instances());

    range(errors, HEARTBEAT_INTERVAL, conf.heartbeatIntervalSeconds());
    range(errors, HEARTBEAT_TIMEOUT, conf.heartbeatTimeoutSeconds());
    range(errors, HEARTBEAT_CONNECT_INTERVAL, conf.heartbeatConnectIntervalSeconds());
    range(errors, HEARTBEAT_CONNECT_TIMEOUT, conf.heartbeatConnectTimeoutSeconds());
    if (conf.heartbeatTimeoutSeconds() <= conf.heartbeatIntervalSeconds()
        && conf.heartbeatTimeoutSeconds() >= 1 && conf.heartbeatIntervalSeconds() >= 1) {
      // The seed loads such a file; heartbeat monitoring then reports every link down.
      warnings.add(ConfProblem.ofParameter(HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT + " = "
          + conf.heartbeatTimeoutSeconds() + " is not greater than " + HEARTBEAT_INTERVAL + " = "
          + conf.heartbeatIntervalSeconds() + ": every heartbeat will time out and each link will be reported down"));
    }

    if (conf.logDestinations().isEmpty()) {
      errors.add(ConfProblem.ofParameter(LOG_DESTINATION,
          LOG_DESTINATION + " names no destination: use 'stderr', 'syslog' or 'stderr,syslog'"));
    }
    required(errors, SYSLOG_FACILITY, conf.syslogFacility());
    if (required(errors, SYSLOG_IDENT, conf.syslogIdent()) && conf.syslogIdent().isBlank()) {
      errors.add(ConfProblem.ofParameter(SYSLOG_IDENT, SYSLOG_IDENT + " = "
          + ConfFile.quote(conf.syslogIdent()) + " is empty: syslog needs a program name"));
    }
    required(errors, LOG_MIN_MESSAGES, conf.logMinMessages());
    range(errors, MAX_CONNECTIONS, conf.maxConnections());
    range(errors, HTTP_PORT, conf.httpPort());
    range(errors, ROUTE_WAIT_TIMEOUT, conf.routeWaitTimeoutMs());
    checkKernelRelaySocket(errors, conf.kernelRelaySocket());
    return new Validation(errors, warnings);
  }

  /** Whether {@code text} is a literal IPv4 or IPv6 address; never resolves a name. */
  public static boolean isIpAddress(String text) {
    if (IPV4.matcher(text).matches()) {
      return true;
    }
    if (!IPV6_CHARS.matcher(text).matches()) {
      return false;
    }
    try {
      // With a ':' in it, InetAddress only parses the literal and never asks DNS.
      InetAddress.getByName(text);
      return true;
    } catch (UnknownHostException | IllegalArgumentException notAnAddress) {
      return false;
    }
  }

  /** Whether {@code text} is a syntactically valid host name or IP address. */
  public static boolean isHost(String text) {
    return isIpAddress(text) || (text.length() <= 253 && HOST_NAME.matcher(text).matches());
  }

  /** A unix socket path: absolute, and short enough for sun_path (108 bytes with its final zero). */
  private static void checkKernelRelaySocket(List<ConfProblem> errors, String path) {
    if (!required(errors, KERNEL_RELAY_SOCKET, path) || path.isEmpty()) {
      return;
    }
    String written = KERNEL_RELAY_SOCKET + " = " + ConfFile.quote(path);
    if (!path.startsWith("/")) {
      errors.add(ConfProblem.ofParameter(KERNEL_RELAY_SOCKET, written + " is not an absolute path"));
    } else if (path.getBytes(StandardCharsets.UTF_8).length > MAX_UNIX_SOCKET_PATH) {
      errors.add(ConfProblem.ofParameter(KERNEL_RELAY_SOCKET, written + " is longer than a unix socket path may be ("
          + MAX_UNIX_SOCKET_PATH + " bytes)"));
    }
  }

  private static void checkListenAddresses(List<ConfProblem> errors, String addresses) {
    if (!required(errors, LISTEN_ADDRESSES, addresses)) {
      return;
    }
    String written = LISTEN_ADDRESSES + " = " + ConfFile.quote(addresses);
    if (addresses.isBlank()) {
      errors.add(ConfProblem.ofParameter(LISTEN_ADDRESSES, written
          + " names no address: give host names or IP addresses separated by commas, or '*' for all"));
      return;
    }
    for (String a : addresses.split(",", -1)) {
      String address = a.strip();
      if (!address.equals("*") && !isHost(address)) {
        errors.add(ConfProblem.ofParameter(LISTEN_ADDRESSES, written + " contains \"" + address
            + "\", which is not a host name, an IP address or '*'"));
      }
    }
  }

  private static void checkListeners(List<ConfProblem> errors, ConmgrConf conf, IntUnaryOperator listenerNumber) {
    // Ports in use so far and who uses them: the default listener, then the extra ones, then HTTP.
    Map<Integer, String> used = new LinkedHashMap<>();
    used.put(conf.port(), PORT);
    for (int i = 0; i < conf.listeners().size(); i++) {
      Listener l = conf.listeners().get(i);
      int n = listenerNumber.applyAsInt(i);
      String portName = LISTENER_PORT + n;
      if (range(errors, portName, LISTENER_PORT, l.port())) {
        claim(errors, used, portName, l.port());
      }
      required(errors, LISTENER_TARGET_SESSION_ATTRS + n, l.target());
    }
    if (conf.httpPort() != 0) {
      claim(errors, used, HTTP_PORT, conf.httpPort());
    }
  }

  private static void claim(List<ConfProblem> errors, Map<Integer, String> used, String name, int port) {
    String owner = used.putIfAbsent(port, name);
    if (owner != null) {
      errors.add(ConfProblem.ofParameter(name, name + " = " + port + " is already used by " + owner
          + ": every listener and the HTTP port need a port of their own"));
    }
  }

  private static void checkInstances(List<ConfProblem> errors, List<BackendInstance> instances) {
    if (instances.isEmpty()) {
      errors.add(ConfProblem.ofParameter(null, "no backend instance is configured: set "
          + BACKEND_HOST + "<N> or " + BACKEND_HOSTADDR + "<N> for at least one instance number N"));
      return;
    }
    Set<Integer> seen = new HashSet<>();
    int previous = Integer.MIN_VALUE;
    for (BackendInstance b : instances) {
      int n = b.number();
      if (n < 0) {
        errors.add(ConfProblem.ofParameter(BACKEND_HOST + n, "instance number " + n + " is negative"));
      } else if (!seen.add(n)) {
        errors.add(ConfProblem.ofParameter(BACKEND_HOST + n, "instance number " + n + " is used twice"));
      } else if (n < previous) {
        errors.add(ConfProblem.ofParameter(BACKEND_HOST + n, "instance " + n + " comes after instance "
            + previous + ": instances must be in ascending instance number"));
      }
      previous = Math.max(previous, n);

      if (b.host() == null && b.hostaddr() == null) {
        errors.add(ConfProblem.ofParameter(BACKEND_HOST + n, "instance " + n + " has neither "
            + BACKEND_HOST + n + " nor " + BACKEND_HOSTADDR + n + ": set one of them"));
      }
      if (b.host() != null && !isHost(b.host())) {
        errors.add(ConfProblem.ofParameter(BACKEND_HOST + n, BACKEND_HOST + n + " = "
            + ConfFile.quote(b.host()) + " is not a valid host name or IP address"));
      }
      if (b.hostaddr() != null && !isIpAddress(b.hostaddr())) {
        errors.add(ConfProblem.ofParameter(BACKEND_HOSTADDR + n, BACKEND_HOSTADDR + n + " = "
            + ConfFile.quote(b.hostaddr()) + " is not an IP address: " + BACKEND_HOSTADDR
            + " takes a literal IPv4 or IPv6 address (use " + BACKEND_HOST + " for a name)"));
      }
      range(errors, BACKEND_PORT + n, BACKEND_PORT, b.port());
      range(errors, WATCHDOG_PORT + n, WATCHDOG_PORT, b.watchdogPort());
    }
  }

  private static boolean range(List<ConfProblem> errors, String name, int value) {
    return range(errors, name, name, value);
  }

  private static boolean range(List<ConfProblem> errors, String name, String family, int value) {
    int min = min(family);
    int max = max(family);
    if (value < min || value > max) {
      errors.add(ConfProblem.ofParameter(name, name + " = " + value + " is out of range: "
          + ConfEntry.rangeRule(min, max)));
      return false;
    }
    return true;
  }

  private static boolean required(List<ConfProblem> errors, String name, Object value) {
    if (value == null) {
      errors.add(ConfProblem.ofParameter(name, name + " is missing"));
      return false;
    }
    return true;
  }
}
