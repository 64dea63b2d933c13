package io.pgconmgr.conmgr.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.protocol.conf.ConmgrConf.LogDestination;
import io.pgconmgr.protocol.conf.ConmgrConf.LogLevel;
import io.pgconmgr.protocol.conf.ConmgrConf.SyslogFacility;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class LoggingTest {

  private static final Logger log = LoggerFactory.getLogger("io.pgconmgr.conmgr.test");
  private static final String PID = Long.toString(ProcessHandle.current().pid());
  private final PrintStream originalErr = System.err;

  @AfterEach
  void restore() {
    System.setErr(originalErr);
    Logging.configure(Set.of(LogDestination.STDERR), LogLevel.DEBUG, SyslogFacility.LOCAL0, "conmgr", Logging.SYSLOG_PORT);
  }

  private String stderrOf(LogLevel min, Runnable logging) {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    Logging.configure(Set.of(LogDestination.STDERR), min, SyslogFacility.LOCAL0, "conmgr", Logging.SYSLOG_PORT);
    logging.run();
    return captured.toString(StandardCharsets.UTF_8);
  }

  private static void allLevels() {
    log.debug("a debug message");
    log.info("an info message");
    log.info(PgLevel.NOTICE, "a notice");
    log.warn("a warning");
    log.error("an error");
    log.info(PgLevel.LOG, "a log message");
    log.error(PgLevel.FATAL, "a fatal message");
  }

  @Test
  void defaultWarningShowsWarningErrorLogAndFatalInPostgresFormat() {
    String out = stderrOf(LogLevel.WARNING, LoggingTest::allLevels);
    assertThat(out).contains("[" + PID + "] WARNING:  a warning", "ERROR:  an error", "LOG:  a log message",
        "FATAL:  a fatal message");
    assertThat(out).doesNotContain("debug message", "info message", "a notice");
    assertThat(out.lines().findFirst().orElseThrow()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} .+ \\[\\d+\\] .*");
  }

  @Test
  void logRanksAboveErrorAsInPostgres() {
    String atLog = stderrOf(LogLevel.LOG, LoggingTest::allLevels);
    assertThat(atLog).contains("a log message", "a fatal message").doesNotContain("an error", "a warning");
    String atFatal = stderrOf(LogLevel.FATAL, LoggingTest::allLevels);
    assertThat(atFatal).contains("a fatal message").doesNotContain("a log message");
  }

  @Test
  void debugShowsEverything() {
    String out = stderrOf(LogLevel.DEBUG, LoggingTest::allLevels);
    assertThat(out).contains("DEBUG:  a debug message", "INFO:  an info message", "NOTICE:  a notice");
  }

  @Test
  void syslogGetsFacilityIdentAndPostgresSeverity() throws Exception {
    try (DatagramSocket syslogd = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      syslogd.setSoTimeout(5000);
      Logging.configure(Set.of(LogDestination.SYSLOG), LogLevel.WARNING, SyslogFacility.LOCAL3, "myconmgr",
          syslogd.getLocalPort());
      log.info(PgLevel.LOG, "link up");
      log.warn("slow");
      DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
      syslogd.receive(p);
      String first = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
      syslogd.receive(p);
      String second = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
      // LOCAL3 = 19; LOG -> info (6), WARNING -> warning (4).
      assertThat(first).startsWith("<" + (19 * 8 + 6) + ">").contains("myconmgr[" + PID + "]: LOG:  link up");
      assertThat(second).startsWith("<" + (19 * 8 + 4) + ">").contains("WARNING:  slow");
    }
  }
}
