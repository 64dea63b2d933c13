package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgconmgr.protocol.conf.ConfException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsFileTest {
  @TempDir
  Path dir;

  private Path file(String text) throws Exception {
    Path f = dir.resolve("watchdog.conf");
    Files.writeString(f, text);
    return f;
  }

  private String errorOf(String text) throws Exception {
    Path f = file(text);
    try {
      SettingsFile.load(f);
    } catch (ConfException e) {
      return e.getMessage();
    }
    throw new AssertionError("expected an error for:\n" + text);
  }

  private static final String CONNINFO = "watchdog.conninfo = 'host=127.0.0.1 user=postgres'\n";

  @Test
  void readsEveryParameterWithUnitsAndRelativePaths() throws Exception {
    WatchdogSettings s = SettingsFile.load(file("""
        # watchdog settings
        watchdog.port = 15545
        Watchdog.Check_Attr_Interval = 2s    # names are case-insensitive
        watchdog.max_heartbeat_connections = 500
        watchdog.conninfo = 'host=10.0.0.5 port=5433 user=watch dbname=postgres'
        watchdog.listen_address = '127.0.0.1'
        watchdog.http_port = 15548
        watchdog.check_timeout = 3000ms
        watchdog.stat_file = 'run/pgx_stat_watchdog.csv'
        watchdog.state_file = '/var/run/pgconmgr/watchdog.peers'
        """));
    assertThat(s.port()).isEqualTo(15545);
    assertThat(s.checkAttrIntervalMs()).isEqualTo(2000);
    assertThat(s.maxHeartbeatConnections()).isEqualTo(500);
    assertThat(s.conninfo().jdbcUrl()).isEqualTo("jdbc:postgresql://10.0.0.5:5433/postgres");
    assertThat(s.listenAddress()).isEqualTo("127.0.0.1");
    assertThat(s.httpPort()).isEqualTo(15548);
    assertThat(s.checkTimeoutMs()).isEqualTo(3000);
    assertThat(s.statFile()).isEqualTo(dir.resolve("run/pgx_stat_watchdog.csv"));
    assertThat(s.stateFile()).isEqualTo(Path.of("/var/run/pgconmgr/watchdog.peers"));
  }

  @Test
  void defaultsAreTheSeedsAndOurs() throws Exception {
    WatchdogSettings s = SettingsFile.load(file(CONNINFO));
    assertThat(s.port()).isEqualTo(27545);
    assertThat(s.checkAttrIntervalMs()).isEqualTo(1000);
    assertThat(s.maxHeartbeatConnections()).isEqualTo(WatchdogSettings.MAX_FROM_INSTANCE);
    assertThat(s.listenAddress()).isEqualTo("*");
    assertThat(s.httpPort()).isEqualTo(27548);
    assertThat(s.checkTimeoutMs()).isEqualTo(5000);
    assertThat(s.statFile()).isNull();
    assertThat(s.stateFile()).isNull();
  }

  @Test
  void syntaxErrorNamesFileAndLine() throws Exception {
    assertThat(errorOf(CONNINFO + "watchdog.port = 'open\n"))
        .isEqualTo("watchdog.conf:2: the quoted value of watchdog.port has no closing quote"
            + " (a string must end on its line)");
  }

  @Test
  void unknownParameterSuggestsTheClosestOne() throws Exception {
    assertThat(errorOf(CONNINFO + "watchdog.check_atr_interval = 10\n"))
        .isEqualTo("watchdog.conf:2: unrecognized parameter \"watchdog.check_atr_interval\";"
            + " did you mean watchdog.check_attr_interval?");
  }

  @Test
  void outOfRangeAndNonNumericValuesAreRefused() throws Exception {
    assertThat(errorOf(CONNINFO + "watchdog.port = 70000\n"))
        .isEqualTo("watchdog.conf:2: watchdog.port = 70000 is out of range: must be between 1"
            + " and 65535");
    assertThat(errorOf(CONNINFO + "watchdog.port = abc\n"))
        .isEqualTo("watchdog.conf:2: watchdog.port = abc is not a whole number in decimal");
    assertThat(errorOf(CONNINFO + "watchdog.check_attr_interval = 0\n"))
        .isEqualTo("watchdog.conf:2: watchdog.check_attr_interval = 0 is out of range: must be"
            + " at least 1");
    assertThat(errorOf(CONNINFO + "watchdog.check_attr_interval = '5 parsecs'\n"))
        .startsWith("watchdog.conf:2: watchdog.check_attr_interval = '5 parsecs' is not a"
            + " duration");
    assertThat(errorOf(CONNINFO + "watchdog.max_heartbeat_connections = 0\n"))
        .startsWith("watchdog.conf:2: watchdog.max_heartbeat_connections = 0 would refuse every"
            + " conmgr");
    assertThat(errorOf(CONNINFO + "watchdog.listen_address = 'no such host.invalid'\n"))
        .startsWith("watchdog.conf:2: watchdog.listen_address = 'no such host.invalid' is not"
            + " an address of this host");
  }

  @Test
  void conninfoIsRequiredAndCheckedWithoutEchoingIt() throws Exception {
    assertThat(errorOf("watchdog.port = 27545\n"))
        .startsWith("watchdog.conf: watchdog.conninfo is required");
    assertThat(errorOf("watchdog.conninfo = 'host=/tmp password=hunter2'\n"))
        .startsWith("watchdog.conf:1: watchdog.conninfo is invalid: conninfo host \"/tmp\" is a"
            + " Unix-domain socket directory")
        .doesNotContain("hunter2");
    assertThat(errorOf("watchdog.conninfo = 'hots=db'\n"))
        .contains("conninfo keyword \"hots\" is not supported");
  }

  @Test
  void reportsEveryProblemOfTheFileAtOnce() throws Exception {
    assertThat(errorOf(CONNINFO + """
        watchdog.port = 0
        watchdog.bogus = 1
        watchdog.http_port = 99999
        """)).isEqualTo("""
        3 errors:
        watchdog.conf:2: watchdog.port = 0 is out of range: must be between 1 and 65535
        watchdog.conf:3: unrecognized parameter "watchdog.bogus"
        watchdog.conf:4: watchdog.http_port = 99999 is out of range: must be between 1 and 65535""");
  }

  @Test
  void tlsFilesMustBeReadableAndComeInThrees() throws Exception {
    Files.writeString(dir.resolve("server.crt"), "x");
    assertThat(errorOf(CONNINFO + "watchdog.ssl_cert_file = 'server.crt'\n"))
        .isEqualTo("watchdog.conf: TLS needs all of watchdog.ssl_cert_file, watchdog.ssl_key_file"
            + " and watchdog.ssl_ca_file (clients must present a certificate)");
    assertThat(errorOf(CONNINFO + "watchdog.ssl_key_file = 'missing.key'\n"))
        .startsWith("watchdog.conf:2: watchdog.ssl_key_file = 'missing.key': no readable file");
    Files.writeString(dir.resolve("server.key"), "x");
    Files.writeString(dir.resolve("ca.crt"), "x");
    WatchdogSettings s = SettingsFile.load(file(CONNINFO
        + "watchdog.ssl_cert_file = 'server.crt'\n"
        + "watchdog.ssl_key_file = 'server.key'\n"
        + "watchdog.ssl_ca_file = 'ca.crt'\n"));
    assertThat(s.tls()).isTrue();
    assertThat(s.sslCaFile()).isEqualTo(dir.resolve("ca.crt"));
  }

  @Test
  void missingFileIsAnIoError() {
    assertThatThrownBy(() -> SettingsFile.load(dir.resolve("absent.conf")))
        .isInstanceOf(java.nio.file.NoSuchFileException.class);
  }
}
