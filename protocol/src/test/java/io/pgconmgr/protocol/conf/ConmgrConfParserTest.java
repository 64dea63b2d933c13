package io.pgconmgr.protocol.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.pgconmgr.protocol.conf.ConmgrConf.LogDestination;
import io.pgconmgr.protocol.conf.ConmgrConf.LogLevel;
import io.pgconmgr.protocol.conf.ConmgrConf.SyslogFacility;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConmgrConfParserTest {

  private static final String ONE_INSTANCE = "backend_host0 = 'db0'\n";

  private static ConmgrConf parse(String text) throws ConfException {
    return ConmgrConfParser.parse(text, "conmgr.conf");
  }

  private static List<String> errors(String text) {
    ConfException e = catchThrowableOfType(ConfException.class, () -> parse(text));
    assertThat(e).as("expected %s to be rejected", text).isNotNull();
    return e.errors().stream().map(ConfProblem::toString).toList();
  }

  @Test
  void everyParameterHasTheSeedsDefault() throws Exception {
    ConmgrConf c = parse(ONE_INSTANCE);
    assertThat(c.port()).isEqualTo(27546);
    assertThat(c.targetSessionAttrs()).isEqualTo(TargetSessionAttrs.READ_WRITE);
    assertThat(c.listeners()).isEmpty();
    assertThat(c.listenAddresses()).isEqualTo("127.0.0.1");
    assertThat(c.instances()).containsExactly(new BackendInstance(0, "db0", null, 27500, 27545));
    assertThat(c.heartbeatIntervalSeconds()).isEqualTo(10);
    assertThat(c.heartbeatTimeoutSeconds()).isEqualTo(20);
    assertThat(c.heartbeatConnectIntervalSeconds()).isEqualTo(1);
    assertThat(c.heartbeatConnectTimeoutSeconds()).isEqualTo(10);
    assertThat(c.logDestinations()).containsExactly(LogDestination.STDERR);
    assertThat(c.syslogFacility()).isEqualTo(SyslogFacility.LOCAL0);
    assertThat(c.syslogIdent()).isEqualTo("conmgr");
    assertThat(c.logMinMessages()).isEqualTo(LogLevel.WARNING);
    assertThat(c.maxConnections()).isZero();
    assertThat(c.httpPort()).isEqualTo(27547);
    assertThat(c.routeWaitTimeoutMs()).isEqualTo(5000);
    assertThat(c).isEqualTo(new ConmgrConfBuilder().instance(ConmgrConfBuilder.instance(0, "db0")).build());
  }

  @Test
  void readsEveryParameter() throws Exception {
    ConmgrConf c = parse("""
        port = 6000
        target_session_attrs = 'prefer-standby'
        listen_addresses = '0.0.0.0, ::1'
        listener_port1 = 6001
        listener_target_session_attrs1 = read-only
        listener_port0 = 6002
        listener_target_session_attrs0 = primary
        backend_host3 = 'db3.example'
        backend_hostaddr3 = '10.0.0.3'
        backend_port3 = 5433
        watchdog_port3 = 5544
        heartbeat_interval = 3
        heartbeat_timeout = 9
        heartbeat_connect_interval = 2
        heartbeat_connect_timeout = 4
        log_destination = 'syslog, stderr'
        syslog_facility = local5
        syslog_ident = 'cm app'
        log_min_messages = debug
        max_connections = 100
        http_port = 0
        route_wait_timeout = 0
        kernel_relay_socket = '/run/pgconmgr/kernel-relay.sock'
        """);
    assertThat(c).isEqualTo(new ConmgrConf(6000, TargetSessionAttrs.PREFER_STANDBY,
        List.of(new Listener(6002, TargetSessionAttrs.PRIMARY), new Listener(6001, TargetSessionAttrs.READ_ONLY)),
        "0.0.0.0, ::1", List.of(new BackendInstance(3, "db3.example", "10.0.0.3", 5433, 5544)),
        3, 9, 2, 4, Set.of(LogDestination.SYSLOG, LogDestination.STDERR), SyslogFacility.LOCAL5,
        "cm app", LogLevel.DEBUG, 100, 0, 0, "/run/pgconmgr/kernel-relay.sock"));
  }

  @Test
  void namesAndEnumValuesAreCaseInsensitive() throws Exception {
    ConmgrConf c = parse("""
        BACKEND_HOST0 = 'db0'
        Log_Min_Messages = Error
        SYSLOG_FACILITY = 'Local7'
        Target_Session_Attrs = PreferSecondary
        LOG_DESTINATION = 'SYSLOG'
        """);
    assertThat(c.logMinMessages()).isEqualTo(LogLevel.ERROR);
    assertThat(c.syslogFacility()).isEqualTo(SyslogFacility.LOCAL7);
    assertThat(c.targetSessionAttrs()).isEqualTo(TargetSessionAttrs.PREFER_STANDBY);
    assertThat(c.logDestinations()).containsExactly(LogDestination.SYSLOG);
  }

  @Test
  void seedExampleTwoInstancesInOrder() throws Exception {
    assertThat(parse("""
        backend_host0='host0'
        backend_port0=5432
        backend_host1='host1'
        backend_port1=2345
        """).instances()).containsExactly(
        new BackendInstance(0, "host0", null, 5432, 27545),
        new BackendInstance(1, "host1", null, 2345, 27545));
  }

  @Test
  void seedExampleInstanceSettingsMixed() throws Exception {
    assertThat(parse("""
        backend_host0='host0'
        backend_host1='host1'
        backend_port0=5432
        backend_port1=2345
        """).instances()).containsExactly(
        new BackendInstance(0, "host0", null, 5432, 27545),
        new BackendInstance(1, "host1", null, 2345, 27545));
  }

  @Test
  void seedExampleMissingInstanceNumberIsFine() throws Exception {
    assertThat(parse("""
        backend_host0='host0'
        backend_host2='host2'
        backend_port0=5432
        backend_port2=2345
        """).instances()).containsExactly(
        new BackendInstance(0, "host0", null, 5432, 27545),
        new BackendInstance(2, "host2", null, 2345, 27545));
  }

  @Test
  void seedExampleInstanceWithPortButNoHostIsALoadError() {
    assertThat(errors("""
        backend_host0='host0'
        backend_host2='host2'
        backend_port0=5432
        backend_port1=5555
        backend_port2=2345
        """)).containsExactly(
        "conmgr.conf:4: instance 1 has neither backend_host1 nor backend_hostaddr1: set one of them");
  }

  @Test
  void instanceWithOnlyAWatchdogPortIsALoadError() {
    assertThat(errors(ONE_INSTANCE + "watchdog_port7 = 1234\n")).containsExactly(
        "conmgr.conf:2: instance 7 has neither backend_host7 nor backend_hostaddr7: set one of them");
  }

  @Test
  void instancesComeOutSortedWhateverTheFileOrder() throws Exception {
    assertThat(parse("""
        backend_host10 = 'ten'
        backend_hostaddr2 = '10.0.0.2'
        backend_host5 = 'five'
        """).instances()).extracting(BackendInstance::number).containsExactly(2, 5, 10);
  }

  @Test
  void hostaddrWinsOverHost() throws Exception {
    BackendInstance b = parse("backend_host0 = 'db0.example'\nbackend_hostaddr0 = '192.0.2.7'\n").instances().get(0);
    assertThat(b.host()).isEqualTo("db0.example");
    assertThat(b.hostaddr()).isEqualTo("192.0.2.7");
    assertThat(b.address()).isEqualTo("192.0.2.7");
  }

  @Test
  void hostaddrAcceptsIpv6LiteralsAndRefusesNamesWithoutResolvingThem() throws Exception {
    assertThat(parse("backend_hostaddr0 = '::1'").instances().get(0).hostaddr()).isEqualTo("::1");
    assertThat(parse("backend_hostaddr0 = 'fd00:1::2:3'").instances().get(0).address()).isEqualTo("fd00:1::2:3");
    assertThat(errors("backend_hostaddr0 = 'localhost'")).containsExactly(
        "conmgr.conf:1: backend_hostaddr0 = 'localhost' is not an IP address: backend_hostaddr takes a literal "
            + "IPv4 or IPv6 address (use backend_host for a name)");
    assertThat(errors("backend_hostaddr0 = '10.0.0.256'")).hasSize(1);
    assertThat(errors("backend_hostaddr0 = '10.0.0'")).hasSize(1);
    assertThat(errors("backend_hostaddr0 = '1:2:3'")).hasSize(1);
  }

  @Test
  void hostMustLookLikeAHostName() {
    assertThat(errors("backend_host0 = 'db 0'")).containsExactly(
        "conmgr.conf:1: backend_host0 = 'db 0' is not a valid host name or IP address");
    assertThat(errors("backend_host0 = ''")).containsExactly(
        "conmgr.conf:1: backend_host0 = '' is not a valid host name or IP address");
  }

  @ParameterizedTest(name = "{0} = {1} is accepted")
  @CsvSource({
      "port, 1", "port, 65535", "backend_port0, 1", "backend_port0, 65535",
      "watchdog_port0, 1", "watchdog_port0, 65535", "listener_port0, 1", "listener_port0, 65535",
      "http_port, 0", "http_port, 65535", "heartbeat_interval, 1", "heartbeat_interval, 2147483647",
      "heartbeat_timeout, 1", "heartbeat_connect_interval, 1", "heartbeat_connect_timeout, 1",
      "max_connections, 0", "max_connections, 2147483647", "route_wait_timeout, 0"})
  void boundsJustInsideAreAccepted(String name, String value) throws Exception {
    ConmgrConf c = parse(ONE_INSTANCE + "http_port = 0\n" + name + " = " + value + "\n");
    assertThat(ConmgrConfRenderer.render(c)).contains(name + " = " + value + "\n");
  }

  @ParameterizedTest(name = "{0} = {1} is rejected")
  @CsvSource({
      "port, 0, must be between 1 and 65535", "port, 65536, must be between 1 and 65535",
      "backend_port0, 0, must be between 1 and 65535", "backend_port0, 65536, must be between 1 and 65535",
      "watchdog_port0, 0, must be between 1 and 65535", "watchdog_port0, 65536, must be between 1 and 65535",
      "listener_port0, 0, must be between 1 and 65535", "listener_port0, 65536, must be between 1 and 65535",
      "http_port, -1, must be between 0 and 65535", "http_port, 65536, must be between 0 and 65535",
      "heartbeat_interval, 0, must be at least 1", "heartbeat_interval, 2147483648, must be at least 1",
      "heartbeat_timeout, 0, must be at least 1", "heartbeat_connect_interval, 0, must be at least 1",
      "heartbeat_connect_timeout, 0, must be at least 1", "max_connections, -1, must be at least 0",
      "route_wait_timeout, -1, must be at least 0"})
  void boundsJustOutsideAreRejectedWithTheRule(String name, String value, String rule) {
    assertThat(errors(ONE_INSTANCE + name + " = " + value + "\n")).containsExactly(
        "conmgr.conf:2: " + name + " = " + value + " is out of range: " + rule);
  }

  @Test
  void badEnumsAndListsNameTheAcceptedValues() {
    assertThat(errors(ONE_INSTANCE + """
        log_min_messages = verbose
        syslog_facility = LOCAL8
        log_destination = 'stderr,eventlog'
        target_session_attrs = 'writable'
        log_destination = 'stderr,'
        """)).containsExactly(
        "conmgr.conf:2: log_min_messages = verbose is not valid: must be one of DEBUG, INFO, NOTICE, WARNING, ERROR, LOG, FATAL, PANIC",
        "conmgr.conf:3: syslog_facility = LOCAL8 is not valid: must be one of LOCAL0, LOCAL1, LOCAL2, LOCAL3, LOCAL4, LOCAL5, LOCAL6, LOCAL7",
        "conmgr.conf:5: target_session_attrs = 'writable' is not valid: must be one of " + TargetSessionAttrs.acceptedNames(),
        "conmgr.conf:6: log_destination = 'stderr,' has an empty entry: list stderr and/or syslog separated by commas, e.g. 'stderr,syslog'");
    assertThat(errors(ONE_INSTANCE + "log_destination = 'stderr,eventlog'")).containsExactly(
        "conmgr.conf:2: log_destination = 'stderr,eventlog' names an unknown destination \"eventlog\": "
            + "list stderr and/or syslog separated by commas, e.g. 'stderr,syslog'");
  }

  @Test
  void integersMustBeDecimal() {
    assertThat(errors(ONE_INSTANCE + "port = 0x1f90\nmax_connections = 1e3\nheartbeat_interval = 'ten'\n"))
        .containsExactly(
            "conmgr.conf:2: port = 0x1f90 is not a whole number in decimal",
            "conmgr.conf:3: max_connections = 1e3 is not a whole number in decimal",
            "conmgr.conf:4: heartbeat_interval = 'ten' is not a whole number in decimal");
  }

  @Test
  void unknownParametersAreErrorsWithAHint() {
    assertThat(errors(ONE_INSTANCE + """
        bakend_port0 = 5432
        heartbeat_intervall = 3
        listen_address = '*'
        colour = blue
        backend_host = 'x'
        backend_host01 = 'x'
        """)).containsExactly(
        "conmgr.conf:2: unknown parameter bakend_port0 (did you mean backend_port0?)",
        "conmgr.conf:3: unknown parameter heartbeat_intervall (did you mean heartbeat_interval?)",
        "conmgr.conf:4: unknown parameter listen_address (did you mean listen_addresses?)",
        "conmgr.conf:5: unknown parameter colour",
        "conmgr.conf:6: backend_host needs an instance number right after it, e.g. backend_host0",
        "conmgr.conf:7: the number in backend_host01 has a leading zero: write backend_host1");
  }

  @Test
  void noInstanceAtAllIsAnError() {
    assertThat(errors("port = 6000\n")).containsExactly(
        "conmgr.conf: no backend instance is configured: set backend_host<N> or backend_hostaddr<N> for at least one instance number N");
    assertThat(errors("")).hasSize(1);
  }

  @Test
  void collectsEveryErrorOfTheFileInLineOrder() {
    ConfException e = catchThrowableOfType(ConfException.class, () -> parse("""
        port = 0
        backend_port3 = 70000
        backend_host3 = 'db3'
        syntax error here
        log_min_messages = LOUD
        nonsense = 1
        """));
    assertThat(e.errors()).extracting(ConfProblem::toString).containsExactly(
        "conmgr.conf:1: port = 0 is out of range: must be between 1 and 65535",
        "conmgr.conf:2: backend_port3 = 70000 is out of range: must be between 1 and 65535",
        "conmgr.conf:4: syntax error near \"here\": only one value per line; put a value with spaces or special characters in single quotes",
        "conmgr.conf:5: log_min_messages = LOUD is not valid: must be one of DEBUG, INFO, NOTICE, WARNING, ERROR, LOG, FATAL, PANIC",
        "conmgr.conf:6: unknown parameter nonsense");
    assertThat(e.getMessage()).startsWith("5 errors:\nconmgr.conf:1: port = 0");
    assertThat(e.errors().get(1).parameter()).isEqualTo("backend_port3");
    assertThat(e.errors().get(1).line()).isEqualTo(2);
  }

  @Test
  void timeoutNotAboveIntervalLoadsWithAWarning() throws Exception {
    var loaded = ConmgrConfParser.load(ONE_INSTANCE + "heartbeat_interval = 5\nheartbeat_timeout = 5\n", "conmgr.conf");
    assertThat(loaded.conf().heartbeatTimeoutSeconds()).isEqualTo(5);
    assertThat(loaded.warnings()).extracting(ConfProblem::toString).containsExactly(
        "conmgr.conf:3: heartbeat_timeout = 5 is not greater than heartbeat_interval = 5: "
            + "every heartbeat will time out and each link will be reported down");
    assertThat(ConmgrConfParser.load(ONE_INSTANCE, "conmgr.conf").warnings()).isEmpty();
  }

  @Test
  void aRepeatedParameterTakesTheLastValueAndWarns() throws Exception {
    var loaded = ConmgrConfParser.load(ONE_INSTANCE + "port = 6000\nPORT = 6001\n", "conmgr.conf");
    assertThat(loaded.conf().port()).isEqualTo(6001);
    assertThat(loaded.warnings()).extracting(ConfProblem::toString).containsExactly(
        "conmgr.conf:3: port is set again; this value replaces the one on line 2");
  }

  @Test
  void aBadValueOverriddenLaterIsNotAnError() throws Exception {
    assertThat(parse(ONE_INSTANCE + "port = 0\nport = 6000\n").port()).isEqualTo(6000);
  }

  @Test
  void listenerWithoutTargetRoutesReadWriteAndTargetWithoutPortIsAnError() throws Exception {
    assertThat(parse(ONE_INSTANCE + "listener_port4 = 6004\n").listeners())
        .containsExactly(new Listener(6004, TargetSessionAttrs.READ_WRITE));
    assertThat(errors(ONE_INSTANCE + "listener_target_session_attrs4 = any\n")).containsExactly(
        "conmgr.conf:2: listener_target_session_attrs4 is set but listener_port4 is not: a listener needs a port");
  }

  @Test
  void aListenerWithABadPortReportsOnlyThePort() {
    assertThat(errors(ONE_INSTANCE + "listener_port3 = 0\nlistener_target_session_attrs3 = any\n")).containsExactly(
        "conmgr.conf:2: listener_port3 = 0 is out of range: must be between 1 and 65535");
  }

  @Test
  void aBadInstancePortStillRequiresAHost() {
    assertThat(errors("backend_port4 = 0\n")).containsExactly(
        "conmgr.conf:1: backend_port4 = 0 is out of range: must be between 1 and 65535",
        "conmgr.conf:1: instance 4 has neither backend_host4 nor backend_hostaddr4: set one of them");
  }

  @Test
  void listenerPortsMustNotCollideWithEachOtherThePortOrHttp() {
    assertThat(errors(ONE_INSTANCE + """
        port = 6000
        listener_port2 = 6000
        listener_port5 = 6001
        listener_port9 = 6001
        http_port = 6001
        """)).containsExactly(
        "conmgr.conf:3: listener_port2 = 6000 is already used by port: every listener and the HTTP port need a port of their own",
        "conmgr.conf:5: listener_port9 = 6001 is already used by listener_port5: every listener and the HTTP port need a port of their own",
        "conmgr.conf:6: http_port = 6001 is already used by listener_port5: every listener and the HTTP port need a port of their own");
  }

  @Test
  void httpPortZeroDisablesItAndThenCollidesWithNothing() throws Exception {
    assertThat(parse(ONE_INSTANCE + "http_port = 0\nport = 27547\n").httpPort()).isZero();
    assertThat(errors(ONE_INSTANCE + "port = 27547\n")).containsExactly(
        "conmgr.conf: http_port = 27547 is already used by port: every listener and the HTTP port need a port of their own");
  }

  @Test
  void listenAddressesMustNameAddresses() throws Exception {
    assertThat(parse(ONE_INSTANCE + "listen_addresses = '*'").listenAddresses()).isEqualTo("*");
    assertThat(errors(ONE_INSTANCE + "listen_addresses = ''")).containsExactly(
        "conmgr.conf:2: listen_addresses = '' names no address: give host names or IP addresses separated by commas, or '*' for all");
    assertThat(errors(ONE_INSTANCE + "listen_addresses = '127.0.0.1,,x y'")).containsExactly(
        "conmgr.conf:2: listen_addresses = '127.0.0.1,,x y' contains \"\", which is not a host name, an IP address or '*'",
        "conmgr.conf:2: listen_addresses = '127.0.0.1,,x y' contains \"x y\", which is not a host name, an IP address or '*'");
  }

  @Test
  void syslogIdentMustNotBeEmptyButMayHoldQuotesAndEscapes() throws Exception {
    assertThat(parse(ONE_INSTANCE + "syslog_ident = 'it''s \\\\ cm'").syslogIdent()).isEqualTo("it's \\ cm");
    assertThat(errors(ONE_INSTANCE + "syslog_ident = ''")).containsExactly(
        "conmgr.conf:2: syslog_ident = '' is empty: syslog needs a program name");
  }

  @Test
  void commentsAndUnquotedStringsAreRead() throws Exception {
    ConmgrConf c = parse("""
        # instances
        backend_host0 = db0.example   # the primary
        backend_hostaddr1 = 10.1.2.3 #standby
        """);
    assertThat(c.instances()).extracting(BackendInstance::address).containsExactly("db0.example", "10.1.2.3");
  }

  @Test
  void readsAFileAndNamesItInErrors(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("conmgr.conf");
    Files.writeString(file, ONE_INSTANCE + "port = 6000\n");
    assertThat(ConmgrConfParser.parse(file).port()).isEqualTo(6000);
    Files.writeString(file, "port = 0\n" + ONE_INSTANCE);
    assertThatThrownBy(() -> ConmgrConfParser.parse(file)).isInstanceOf(ConfException.class)
        .hasMessage("conmgr.conf:1: port = 0 is out of range: must be between 1 and 65535");
  }
}
