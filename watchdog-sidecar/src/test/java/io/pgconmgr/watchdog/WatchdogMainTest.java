package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: exit codes and messages, in-process and as a real process. */
class WatchdogMainTest {
  @TempDir
  Path dir;

  private record Run(int code, String out, String err) {
  }

  private static Run run(String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    int code = WatchdogMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void badSettingsFileExitsNonZeroWithEveryProblemAndStartsNothing() throws Exception {
    int port = freePort();
    Path conf = dir.resolve("watchdog.conf");
    Files.writeString(conf, """
        watchdog.conninfo = 'host=127.0.0.1 user=postgres'
        watchdog.port = %d
        watchdog.check_attr_interval = -5
        """.formatted(port));
    // A real process, as bin/watchdog runs it.
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-cp", System.getProperty("java.class.path"),
        WatchdogMain.class.getName(), "-c", conf.toString())
        .redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).isEqualTo(WatchdogMain.EXIT_BAD_SETTINGS);
    assertThat(output).contains("watchdog: invalid settings, nothing started:")
        .contains("watchdog.conf:3: watchdog.check_attr_interval = -5 is not a duration");
    // Nothing listened on the configured port.
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(s.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void missingFileAndBadArgumentsHaveTheirOwnMessages() {
    Run missing = run("-c", dir.resolve("nope.conf").toString());
    assertThat(missing.code()).isEqualTo(WatchdogMain.EXIT_BAD_SETTINGS);
    assertThat(missing.err()).contains("cannot read settings file").contains("nope.conf");
    Run usage = run("--frobnicate");
    assertThat(usage.code()).isEqualTo(WatchdogMain.EXIT_USAGE);
    assertThat(usage.err()).contains("unknown argument \"--frobnicate\"").contains("usage:");
    assertThat(run().err()).contains("no settings file given");
  }

  @Test
  void checkPrintsTheSettingsWithoutThePassword() throws Exception {
    Path conf = dir.resolve("ok.conf");
    Files.writeString(conf, "watchdog.conninfo = 'host=127.0.0.1 user=w password=hunter2'\n");
    Run r = run("-c", conf.toString(), "--check");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("port=27545").contains("user=w").doesNotContain("hunter2");
  }

  @Test
  void printsSetupAndRemovalSql() {
    assertThat(run("--print-setup-sql").out())
        .contains("CREATE EXTENSION IF NOT EXISTS file_fdw;")
        .contains("OPTIONS (filename 'pgx_stat_watchdog.csv', format 'csv', header 'true')");
    assertThat(run("--print-setup-sql", "/run/it's.csv").out())
        .contains("filename '/run/it''s.csv'");
    assertThat(run("--print-removal-sql").out())
        .contains("DROP FOREIGN TABLE IF EXISTS pgx_stat_watchdog;");
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static List<String> lines(String s) {
    return s.lines().toList();
  }
}
