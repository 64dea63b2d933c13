package io.pgconmgr.protocol.conf;

import static io.pgconmgr.protocol.conf.ConmgrParameters.*;

import io.pgconmgr.protocol.conf.ConmgrConf.LogDestination;
import io.pgconmgr.protocol.conf.ConmgrConf.LogLevel;
import io.pgconmgr.protocol.conf.ConmgrConf.SyslogFacility;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads conmgr.conf into a {@link ConmgrConf}. Every problem of the file is collected before
 * failing, so one run lists all of them with their file and line.
 *
 * <p>A parameter set twice takes its last value, as in postgresql.conf, and the repetition is
 * reported as a warning. An extra listener given a port but no target routes like the default
 * listener's default, read-write.
 */
public final class ConmgrConfParser {

  private static final Pattern NUMBERED_NAME = Pattern.compile("([a-z_]+)([0-9]+)");

  /** A parsed file: the model plus the warnings (settings that load but look wrong). */
  public record ParsedConf(ConmgrConf conf, List<ConfProblem> warnings) {
    public ParsedConf {
      warnings = List.copyOf(warnings);
    }
  }

  private ConmgrConfParser() {
  }

  /** Reads and checks a file; problems are named after its last path element. */
  public static ConmgrConf parse(Path path) throws IOException, ConfException {
    return load(path).conf();
  }

  /** Reads and checks {@code text}; {@code fileName} is what problems are reported under. */
  public static ConmgrConf parse(String text, String fileName) throws ConfException {
    return load(text, fileName).conf();
  }

  /** As {@link #parse(Path)}, also returning the warnings. */
  public static ParsedConf load(Path path) throws IOException, ConfException {
    return build(ConfFile.read(path));
  }

  /** As {@link #parse(String, String)}, also returning the warnings. */
  public static ParsedConf load(String text, String fileName) throws ConfException {
    return build(ConfFile.parse(text, fileName));
  }

  private static ParsedConf build(ConfFile file) throws ConfException {
    return new Reading(file).run();
  }

  /** The state of reading one file. */
  private static final class Reading {
    private final ConfFile file;
    private final List<ConfProblem> errors = new ArrayList<>();
    private final List<ConfProblem> warnings = new ArrayList<>();
    private final ConmgrConfBuilder builder = new ConmgrConfBuilder();
    /** Effective entry of each parameter, under its canonical name (e.g. backend_port3). */
    private final Map<String, ConfEntry> effective = new HashMap<>();
    private final Map<Integer, InstanceDraft> instances = new TreeMap<>();
    private final Map<Integer, ListenerDraft> listeners = new TreeMap<>();

    Reading(ConfFile file) {
      this.file = file;
      errors.addAll(file.errors());
    }

    ParsedConf run() throws ConfException {
      for (ConfEntry e : file.entries()) {
        classify(e);
      }
      for (ConfEntry e : effective.values()) {
        try {
          apply(e);
        } catch (InvalidValueException bad) {
          errors.add(bad.problem());
        }
      }
      instances.forEach((n, d) -> builder.instance(
          new BackendInstance(n, d.host, d.hostaddr, d.port, d.watchdogPort)));
      List<Integer> listenerNumbers = new ArrayList<>();
      listeners.forEach((n, d) -> {
        if (d.portEntry == null) {
          ConfEntry target = effective.get(LISTENER_TARGET_SESSION_ATTRS + n);
          errors.add(target.problem(LISTENER_TARGET_SESSION_ATTRS + n + " is set but " + LISTENER_PORT + n
              + " is not: a listener needs a port"));
        } else if (d.port > 0) { // an invalid port was reported already
          listenerNumbers.add(n);
          builder.listener(new Listener(d.port, d.target));
        }
      });
      ConmgrConf conf = builder.build();

      var validation = ConmgrConfValidator.validate(conf, listenerNumbers::get);
      validation.errors().forEach(p -> errors.add(locate(p)));
      validation.warnings().forEach(p -> warnings.add(locate(p)));
      if (!errors.isEmpty()) {
        throw new ConfException(inFileOrder(errors));
      }
      return new ParsedConf(conf, inFileOrder(warnings));
    }

    /** Checks the name, resolves repetitions (last wins) and remembers the effective entry. */
    private void classify(ConfEntry e) {
      String canonical = canonicalName(e);
      if (canonical == null) {
        return;
      }
      ConfEntry earlier = effective.put(canonical, e);
      if (earlier != null) {
        warnings.add(e.problem(canonical + " is set again; this value replaces the one on line " + earlier.line()));
      }
    }

    /** The canonical name of a known parameter, or null after reporting an unknown one. */
    private String canonicalName(ConfEntry e) {
      String name = e.name();
      if (SINGLE.contains(name)) {
        return name;
      }
      Matcher m = NUMBERED_NAME.matcher(name);
      if (m.matches() && NUMBERED.contains(m.group(1))) {
        String digits = m.group(2);
        if (digits.length() > 1 && digits.startsWith("0")) {
          errors.add(e.problem("the number in " + name + " has a leading zero: write "
              + m.group(1) + digits.replaceFirst("^0+(?=.)", "")));
          return null;
        }
        if (digits.length() > 9) {
          errors.add(e.problem("the number in " + name + " is too large: use at most 999999999"));
          return null;
        }
        return name;
      }
      if (NUMBERED.contains(name)) {
        errors.add(e.problem(name + " needs an instance number right after it, e.g. " + name + "0"));
        return null;
      }
      errors.add(e.problem("unknown parameter " + name + suggestion(name)));
      return null;
    }

    private void apply(ConfEntry e) throws InvalidValueException {
      String name = e.name();
      switch (name) {
        case PORT -> builder.port(intValue(e, name));
        case TARGET_SESSION_ATTRS -> builder.targetSessionAttrs(target(e));
        case LISTEN_ADDRESSES -> builder.listenAddresses(e.value());
        case HEARTBEAT_INTERVAL -> builder.heartbeatIntervalSeconds(intValue(e, name));
        case HEARTBEAT_TIMEOUT -> builder.heartbeatTimeoutSeconds(intValue(e, name));
        case HEARTBEAT_CONNECT_INTERVAL -> builder.heartbeatConnectIntervalSeconds(intValue(e, name));
        case HEARTBEAT_CONNECT_TIMEOUT -> builder.heartbeatConnectTimeoutSeconds(intValue(e, name));
        case LOG_DESTINATION -> builder.logDestinations(destinations(e));
        case SYSLOG_FACILITY -> builder.syslogFacility(e.enumValue(SyslogFacility.class));
        case SYSLOG_IDENT -> builder.syslogIdent(e.value());
        case LOG_MIN_MESSAGES -> builder.logMinMessages(e.enumValue(LogLevel.class));
        case MAX_CONNECTIONS -> builder.maxConnections(intValue(e, name));
        case HTTP_PORT -> builder.httpPort(intValue(e, name));
        case ROUTE_WAIT_TIMEOUT -> builder.routeWaitTimeoutMs(intValue(e, name));
        case KERNEL_RELAY_SOCKET -> builder.kernelRelaySocket(e.value());
        default -> applyNumbered(e);
      }
    }

    private void applyNumbered(ConfEntry e) throws InvalidValueException {
      Matcher m = NUMBERED_NAME.matcher(e.name());
      if (!m.matches()) {
        throw new IllegalStateException("not a numbered parameter: " + e.name());
      }
      String family = m.group(1);
      int n = Integer.parseInt(m.group(2));
      switch (family) {
        case BACKEND_HOST -> instance(n).host = e.value();
        case BACKEND_HOSTADDR -> instance(n).hostaddr = e.value();
        case BACKEND_PORT -> {
          instance(n); // the instance exists even when its port is bad: it still needs a host
          instance(n).port = intValue(e, family);
        }
        case WATCHDOG_PORT -> {
          instance(n);
          instance(n).watchdogPort = intValue(e, family);
        }
        case LISTENER_PORT -> {
          ListenerDraft l = listener(n);
          l.portEntry = e;
          l.port = intValue(e, family);
        }
        case LISTENER_TARGET_SESSION_ATTRS -> {
          listener(n);
          listener(n).target = target(e);
        }
        default -> throw new IllegalStateException("unhandled family " + family);
      }
    }

    private InstanceDraft instance(int n) {
      return instances.computeIfAbsent(n, k -> new InstanceDraft());
    }

    private ListenerDraft listener(int n) {
      return listeners.computeIfAbsent(n, k -> new ListenerDraft());
    }

    private static int intValue(ConfEntry e, String family) throws InvalidValueException {
      return e.intValue(min(family), max(family));
    }

    private static TargetSessionAttrs target(ConfEntry e) throws InvalidValueException {
      return TargetSessionAttrs.parse(e.value()).orElseThrow(() -> e.invalid(e.name() + " = "
          + e.written() + " is not valid: must be one of " + TargetSessionAttrs.acceptedNames()));
    }

    private static Set<LogDestination> destinations(ConfEntry e) throws InvalidValueException {
      Set<LogDestination> out = EnumSet.noneOf(LogDestination.class);
      for (String part : e.value().split(",", -1)) {
        String d = part.strip().toLowerCase(Locale.ROOT);
        switch (d) {
          case "stderr" -> out.add(LogDestination.STDERR);
          case "syslog" -> out.add(LogDestination.SYSLOG);
          default -> throw e.invalid(LOG_DESTINATION + " = " + e.written() + (d.isEmpty()
              ? " has an empty entry" : " names an unknown destination \"" + part.strip() + "\"")
              + ": list stderr and/or syslog separated by commas, e.g. 'stderr,syslog'");
        }
      }
      return out;
    }

    /** Places a validator problem on the line that set the parameter, or the instance's first line. */
    private ConfProblem locate(ConfProblem p) {
      String parameter = p.parameter();
      if (parameter == null) {
        return p.at(file.fileName(), 0);
      }
      ConfEntry e = effective.get(parameter);
      if (e == null) {
        e = firstEntryOfSameNumber(parameter).orElse(null);
      }
      return p.at(file.fileName(), e == null ? 0 : e.line());
    }

    /** For "instance 1 has no host": the first line that mentions instance 1. */
    private Optional<ConfEntry> firstEntryOfSameNumber(String parameter) {
      Matcher m = NUMBERED_NAME.matcher(parameter);
      if (!m.matches()) {
        return Optional.empty();
      }
      boolean listener = m.group(1).startsWith("listener_");
      return effective.entrySet().stream()
          .filter(en -> {
            Matcher o = NUMBERED_NAME.matcher(en.getKey());
            return o.matches() && o.group(2).equals(m.group(2))
                && o.group(1).startsWith("listener_") == listener;
          })
          .map(Map.Entry::getValue)
          .min(Comparator.comparingInt(ConfEntry::line));
    }

    private static List<ConfProblem> inFileOrder(List<ConfProblem> problems) {
      List<ConfProblem> sorted = new ArrayList<>(problems);
      sorted.sort(Comparator.comparingInt(p -> p.line() == 0 ? Integer.MAX_VALUE : p.line()));
      return sorted;
    }
  }

  /** " (did you mean backend_port2?)" when a known name is a couple of typos away, else "". */
  static String suggestion(String name) {
    Matcher m = NUMBERED_NAME.matcher(name);
    List<String> candidates = new ArrayList<>(SINGLE);
    for (String family : NUMBERED) {
      candidates.add(m.matches() ? family + m.group(2) : family + "0");
    }
    return ConfFile.closestName(name, candidates).map(c -> " (did you mean " + c + "?)").orElse("");
  }

  private static final class InstanceDraft {
    String host;
    String hostaddr;
    int port = ConmgrConf.DEFAULT_BACKEND_PORT;
    int watchdogPort = ConmgrConf.DEFAULT_WATCHDOG_PORT;
  }

  private static final class ListenerDraft {
    ConfEntry portEntry;
    int port;
    TargetSessionAttrs target = ConmgrConfBuilder.DEFAULT_TARGET_SESSION_ATTRS;
  }
}
