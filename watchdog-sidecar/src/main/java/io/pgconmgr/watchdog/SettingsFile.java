package io.pgconmgr.watchdog;

import io.pgconmgr.protocol.conf.ConfEntry;
import io.pgconmgr.protocol.conf.ConfException;
import io.pgconmgr.protocol.conf.ConfFile;
import io.pgconmgr.protocol.conf.ConfProblem;
import io.pgconmgr.protocol.conf.InvalidValueException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the watchdog settings file ({@code bin/watchdog -c FILE}, postgresql.conf syntax). Every
 * problem of the file is reported at once, each as {@code file:line: what is wrong}.
 */
public final class SettingsFile {
  static final String PORT = "watchdog.port";
  static final String HTTP_PORT = "watchdog.http_port";
  static final String LISTEN_ADDRESS = "watchdog.listen_address";
  static final String CHECK_ATTR_INTERVAL = "watchdog.check_attr_interval";
  static final String CHECK_TIMEOUT = "watchdog.check_timeout";
  static final String MAX_HEARTBEAT_CONNECTIONS = "watchdog.max_heartbeat_connections";
  static final String CONNINFO = "watchdog.conninfo";
  static final String STAT_FILE = "watchdog.stat_file";
  static final String STATE_FILE = "watchdog.state_file";
  static final String SSL_CERT_FILE = "watchdog.ssl_cert_file";
  static final String SSL_KEY_FILE = "watchdog.ssl_key_file";
  static final String SSL_CA_FILE = "watchdog.ssl_ca_file";
  private static final Set<String> KNOWN = Set.of(PORT, HTTP_PORT, LISTEN_ADDRESS,
      CHECK_ATTR_INTERVAL, CHECK_TIMEOUT, MAX_HEARTBEAT_CONNECTIONS, CONNINFO, STAT_FILE,
      STATE_FILE, SSL_CERT_FILE, SSL_KEY_FILE, SSL_CA_FILE);
  private static final Pattern DURATION = Pattern.compile("([0-9]+)\\s*(ms|s|min|h|d)?");

  private SettingsFile() {
  }

  /**
   * Reads and validates {@code file}; relative paths in it are relative to its directory.
   *
   * @throws ConfException listing every problem found
   * @throws IOException   when the file cannot be read
   */
  public static WatchdogSettings load(Path file) throws ConfException, IOException {
    ConfFile conf = ConfFile.read(file);
    Path dir = file.toAbsolutePath().getParent();
    List<ConfProblem> problems = new ArrayList<>(conf.errors());
    Map<String, ConfEntry> settings = conf.settings();
    for (ConfEntry e : settings.values()) {
      if (!KNOWN.contains(e.name())) {
        problems.add(e.problem("unrecognized parameter \"" + e.name() + "\""
            + ConfFile.closestName(e.name(), KNOWN).map(n -> "; did you mean " + n + "?")
                .orElse("")));
      }
    }
    ConfEntry conninfoEntry = settings.get(CONNINFO);
    if (conninfoEntry == null) {
      problems.add(new ConfProblem(conf.fileName(), 0, CONNINFO, CONNINFO + " is required:"
          + " how to reach the local instance, e.g."
          + " 'host=127.0.0.1 port=5432 user=postgres dbname=postgres'"));
      throw new ConfException(problems);
    }
    WatchdogSettings.Builder b;
    try {
      b = WatchdogSettings.builder(conninfoEntry.value());
    } catch (IllegalArgumentException e) {
      // The value is not echoed: it may hold a password.
      problems.add(conninfoEntry.problem(CONNINFO + " is invalid: " + e.getMessage()));
      throw new ConfException(problems);
    }
    for (ConfEntry e : settings.values()) {
      try {
        switch (e.name()) {
          case PORT -> b.port(e.intValue(1, 65535));
          case HTTP_PORT -> b.httpPort(e.intValue(1, 65535));
          case LISTEN_ADDRESS -> b.listenAddress(address(e));
          case CHECK_ATTR_INTERVAL -> b.checkAttrIntervalMs(millis(e));
          case CHECK_TIMEOUT -> b.checkTimeoutMs(millis(e));
          case MAX_HEARTBEAT_CONNECTIONS -> {
            int max = e.intValue(-1, Integer.MAX_VALUE);
            if (max == 0) {
              throw e.invalid(e.name() + " = 0 would refuse every conmgr: use at least 1,"
                  + " or -1 for the instance's max_connections");
            }
            b.maxHeartbeatConnections(max);
          }
          case STAT_FILE -> b.statFile(path(dir, e));
          case STATE_FILE -> b.stateFile(path(dir, e));
          case SSL_CERT_FILE -> b.sslCertFile(readableFile(dir, e));
          case SSL_KEY_FILE -> b.sslKeyFile(readableFile(dir, e));
          case SSL_CA_FILE -> b.sslCaFile(readableFile(dir, e));
          default -> {
            // conninfo is read above; unknown names are reported above
          }
        }
      } catch (InvalidValueException ex) {
        problems.add(ex.problem());
      }
    }
    if (problems.isEmpty()) {
      try {
        return b.build();
      } catch (IllegalArgumentException e) {
        problems.add(new ConfProblem(conf.fileName(), 0, null, e.getMessage()));
      }
    }
    problems.sort(Comparator.comparingInt(ConfProblem::line));
    throw new ConfException(problems);
  }

  /** A duration in milliseconds: a plain number, or a number with ms, s, min, h or d. */
  static int millis(ConfEntry e) throws InvalidValueException {
    Matcher m = DURATION.matcher(e.value().trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw e.invalid(e.name() + " = " + e.written() + " is not a duration: write milliseconds"
          + " (1000) or a number with a unit (ms, s, min, h, d)");
    }
    if (m.group(2) == null) {
      return e.intValue(1, Integer.MAX_VALUE);
    }
    long factor = switch (m.group(2)) {
      case "s" -> 1_000L;
      case "min" -> 60_000L;
      case "h" -> 3_600_000L;
      case "d" -> 86_400_000L;
      default -> 1L;
    };
    long ms;
    try {
      ms = Math.multiplyExact(Long.parseLong(m.group(1)), factor);
    } catch (ArithmeticException | NumberFormatException tooBig) {
      ms = Long.MAX_VALUE;
    }
    if (ms < 1 || ms > Integer.MAX_VALUE) {
      throw e.invalid(e.name() + " = " + e.written() + " is out of range: "
          + ConfEntry.rangeRule(1, Integer.MAX_VALUE) + " ms");
    }
    return (int) ms;
  }

  private static String address(ConfEntry e) throws InvalidValueException {
    String v = e.value().trim();
    if (v.equals("*")) {
      return v;
    }
    try {
      return InetAddress.getByName(v).getHostAddress();
    } catch (UnknownHostException ex) {
      throw e.invalid(e.name() + " = " + e.written() + " is not an address of this host:"
          + " use '*' for all addresses or an IP address");
    }
  }

  private static Path readableFile(Path dir, ConfEntry e) throws InvalidValueException {
    Path p = path(dir, e);
    if (p != null && !Files.isReadable(p)) {
      throw e.invalid(e.name() + " = " + e.written() + ": no readable file " + p);
    }
    return p;
  }

  private static Path path(Path dir, ConfEntry e) {
    String v = e.value().trim();
    return v.isEmpty() ? null : dir.resolve(v);
  }
}
