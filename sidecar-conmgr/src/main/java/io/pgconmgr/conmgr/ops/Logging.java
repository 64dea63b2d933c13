package io.pgconmgr.conmgr.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.net.SyslogAppender;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.pattern.DynamicConverter;
import ch.qos.logback.core.spi.FilterReply;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConf.LogDestination;
import io.pgconmgr.protocol.conf.ConmgrConf.LogLevel;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Configures logback from conmgr.conf ({@code log_destination}, {@code log_min_messages},
 * {@code syslog_facility}, {@code syslog_ident}) with PostgreSQL's level order and line format.
 * Syslog goes over UDP to localhost:514, where rsyslog/journald listen (docs/conmgr.md).
 */
public final class Logging {

  /** Where the syslog appender sends; tests point it at their own UDP socket. */
  public static final int SYSLOG_PORT = 514;
  static final String CONSOLE_PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS z} [%pid] %pglevel:  %msg%n%ex";

  private Logging() {
  }

  public static void configure(ConmgrConf conf) {
    configure(conf.logDestinations(), conf.logMinMessages(), conf.syslogFacility(), conf.syslogIdent(), SYSLOG_PORT);
  }

  public static void configure(Set<LogDestination> destinations, LogLevel min, ConmgrConf.SyslogFacility facility,
      String ident, int syslogPort) {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    ctx.reset();
    @SuppressWarnings("unchecked")
    Map<String, Supplier<DynamicConverter<?>>> rules = (Map<String, Supplier<DynamicConverter<?>>>)
        ctx.getObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS);
    if (rules == null) {
      rules = new HashMap<>();
      ctx.putObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS, rules);
    }
    rules.put("pglevel", PgLevelConverter::new);
    rules.put("pid", PidConverter::new);

    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    // LOG-level events are logged at INFO with a marker, so INFO must pass the logger; the filter decides.
    root.setLevel(min == LogLevel.DEBUG ? Level.DEBUG : Level.INFO);
    ctx.getLogger("io.netty").setLevel(Level.INFO);
    ctx.getLogger("io.micrometer").setLevel(Level.INFO);

    if (destinations.contains(LogDestination.STDERR) || destinations.isEmpty()) {
      PatternLayoutEncoder encoder = new PatternLayoutEncoder();
      encoder.setContext(ctx);
      encoder.setPattern(CONSOLE_PATTERN);
      encoder.start();
      ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
      console.setContext(ctx);
      console.setName("stderr");
      console.setTarget("System.err");
      console.setEncoder(encoder);
      start(console, min, root);
    }
    if (destinations.contains(LogDestination.SYSLOG)) {
      // Severity follows the SLF4J level: LOG and INFO -> info, WARNING -> warning, ERROR and FATAL -> err.
      SyslogAppender syslog = new SyslogAppender();
      syslog.setContext(ctx);
      syslog.setName("syslog");
      syslog.setSyslogHost("localhost");
      syslog.setPort(syslogPort);
      syslog.setFacility(facility.name());
      syslog.setSuffixPattern(ident + "[%pid]: %pglevel:  %msg");
      syslog.setThrowableExcluded(true);
      start(syslog, min, root);
    }
  }

  private static void start(Appender<ILoggingEvent> appender, LogLevel min, Logger root) {
    Filter<ILoggingEvent> filter = new Filter<>() {
      @Override
      public FilterReply decide(ILoggingEvent event) {
        return rank(event).ordinal() >= min.ordinal() ? FilterReply.NEUTRAL : FilterReply.DENY;
      }
    };
    filter.start();
    appender.addFilter(filter);
    appender.start();
    root.addAppender(appender);
  }

  /** The PostgreSQL level of an event: its {@link PgLevel} marker, else the SLF4J level's counterpart. */
  public static LogLevel rank(ILoggingEvent event) {
    if (event.getMarkerList() != null) {
      for (Marker m : event.getMarkerList()) {
        if (m.equals(PgLevel.LOG)) {
          return LogLevel.LOG;
        } else if (m.equals(PgLevel.NOTICE)) {
          return LogLevel.NOTICE;
        } else if (m.equals(PgLevel.FATAL)) {
          return LogLevel.FATAL;
        }
      }
    }
    return switch (event.getLevel().toInt()) {
      case Level.ERROR_INT -> LogLevel.ERROR;
      case Level.WARN_INT -> LogLevel.WARNING;
      case Level.INFO_INT -> LogLevel.INFO;
      default -> LogLevel.DEBUG;
    };
  }

  /** %pglevel: DEBUG, INFO, NOTICE, WARNING, ERROR, LOG, FATAL. */
  public static final class PgLevelConverter extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
      return rank(event).name();
    }
  }

  /** %pid: this process id, as in PostgreSQL's log_line_prefix %p. */
  public static final class PidConverter extends ClassicConverter {
    private static final String PID = Long.toString(ProcessHandle.current().pid());

    @Override
    public String convert(ILoggingEvent event) {
      return PID;
    }
  }
}
