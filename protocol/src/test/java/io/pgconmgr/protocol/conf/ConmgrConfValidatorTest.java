package io.pgconmgr.protocol.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The validator on models built in code, as the operator builds them from a custom resource. */
class ConmgrConfValidatorTest {

  private static ConmgrConfBuilder valid() {
    return new ConmgrConfBuilder().instance(ConmgrConfBuilder.instance(0, "db0"));
  }

  private static List<String> errors(ConmgrConf conf) {
    return ConmgrConfValidator.validate(conf).errors().stream().map(ConfProblem::toString).toList();
  }

  @Test
  void aModelWithDefaultsAndOneInstanceIsValid() throws Exception {
    ConmgrConf conf = valid().build();
    assertThat(ConmgrConfValidator.validate(conf).isValid()).isTrue();
    assertThat(ConmgrConfValidator.requireValid(conf)).isSameAs(conf);
  }

  @Test
  void reportsEveryBrokenRuleOfAModelWithItsParameter() {
    ConmgrConf conf = new ConmgrConfBuilder()
        .port(0)
        .targetSessionAttrs(null)
        .listenAddresses(null)
        .listener(new Listener(70000, TargetSessionAttrs.ANY))
        .listener(new Listener(6000, null))
        .instance(new BackendInstance(2, null, null, 0, 65536))
        .instance(new BackendInstance(3, "ok", "not-an-ip", 1, 1))
        .heartbeatIntervalSeconds(0)
        .heartbeatTimeoutSeconds(0)
        .heartbeatConnectIntervalSeconds(0)
        .heartbeatConnectTimeoutSeconds(0)
        .logDestinations(Set.of())
        .syslogFacility(null)
        .syslogIdent(" ")
        .logMinMessages(null)
        .maxConnections(-1)
        .httpPort(65536)
        .routeWaitTimeoutMs(-1)
        .build();
    assertThat(errors(conf)).containsExactly(
        "port = 0 is out of range: must be between 1 and 65535",
        "target_session_attrs is missing",
        "listen_addresses is missing",
        "listener_port0 = 70000 is out of range: must be between 1 and 65535",
        "listener_target_session_attrs1 is missing",
        "instance 2 has neither backend_host2 nor backend_hostaddr2: set one of them",
        "backend_port2 = 0 is out of range: must be between 1 and 65535",
        "watchdog_port2 = 65536 is out of range: must be between 1 and 65535",
        "backend_hostaddr3 = 'not-an-ip' is not an IP address: backend_hostaddr takes a literal IPv4 or IPv6 address (use backend_host for a name)",
        "heartbeat_interval = 0 is out of range: must be at least 1",
        "heartbeat_timeout = 0 is out of range: must be at least 1",
        "heartbeat_connect_interval = 0 is out of range: must be at least 1",
        "heartbeat_connect_timeout = 0 is out of range: must be at least 1",
        "log_destination names no destination: use 'stderr', 'syslog' or 'stderr,syslog'",
        "syslog_facility is missing",
        "syslog_ident = ' ' is empty: syslog needs a program name",
        "log_min_messages is missing",
        "max_connections = -1 is out of range: must be at least 0",
        "http_port = 65536 is out of range: must be between 0 and 65535",
        "route_wait_timeout = -1 is out of range: must be at least 0");
    assertThat(ConmgrConfValidator.validate(conf).errors()).allSatisfy(p -> {
      assertThat(p.file()).isNull();
      assertThat(p.line()).isZero();
    });
  }

  @Test
  void requireValidThrowsAllErrorsAtOnce() {
    ConmgrConf conf = valid().port(0).maxConnections(-1).build();
    assertThatThrownBy(() -> ConmgrConfValidator.requireValid(conf))
        .isInstanceOf(ConfException.class)
        .hasMessage("2 errors:\nport = 0 is out of range: must be between 1 and 65535\n"
            + "max_connections = -1 is out of range: must be at least 0");
  }

  @Test
  void instancesMustHaveDistinctNonNegativeNumbersInAscendingOrder() {
    BackendInstance a = ConmgrConfBuilder.instance(1, "a");
    BackendInstance b = ConmgrConfBuilder.instance(0, "b");
    ConmgrConf unsorted = new ConmgrConf(27546, TargetSessionAttrs.READ_WRITE, List.of(), "127.0.0.1",
        List.of(a, b, a, ConmgrConfBuilder.instance(-1, "c")), 10, 20, 1, 10,
        ConmgrConfBuilder.DEFAULT_LOG_DESTINATIONS, ConmgrConf.SyslogFacility.LOCAL0, "conmgr",
        ConmgrConf.LogLevel.WARNING, 0, 27547, 5000);
    assertThat(errors(unsorted)).containsExactly(
        "instance 0 comes after instance 1: instances must be in ascending instance number",
        "instance number 1 is used twice",
        "instance number -1 is negative");
    assertThat(errors(valid().instances(List.of(a, b)).build())).as("the builder sorts").isEmpty();
  }

  @Test
  void noInstanceIsAnError() {
    assertThat(errors(new ConmgrConfBuilder().build())).containsExactly(
        "no backend instance is configured: set backend_host<N> or backend_hostaddr<N> for at least one instance number N");
  }

  @Test
  void kernelRelaySocketIsEmptyOrAnAbsolutePathThatFitsAUnixSocket() {
    assertThat(errors(valid().build())).isEmpty();
    assertThat(errors(valid().kernelRelaySocket("/run/pgconmgr/kernel-relay.sock").build())).isEmpty();
    assertThat(errors(valid().kernelRelaySocket("/" + "a".repeat(106)).build())).isEmpty();
    assertThat(errors(valid().kernelRelaySocket("run/kernel-relay.sock").build())).containsExactly(
        "kernel_relay_socket = 'run/kernel-relay.sock' is not an absolute path");
    assertThat(errors(valid().kernelRelaySocket("/" + "a".repeat(107)).build())).containsExactly(
        "kernel_relay_socket = '/" + "a".repeat(107) + "' is longer than a unix socket path may be (107 bytes)");
  }

  @Test
  void timeoutNotAboveIntervalIsOnlyAWarning() {
    var v = ConmgrConfValidator.validate(valid().heartbeatIntervalSeconds(30).heartbeatTimeoutSeconds(20).build());
    assertThat(v.isValid()).isTrue();
    assertThat(v.warnings()).extracting(ConfProblem::parameter).containsExactly("heartbeat_timeout");
    assertThat(ConmgrConfValidator.validate(valid().heartbeatIntervalSeconds(19).build()).warnings()).isEmpty();
  }

  @Test
  void ipAddressCheckIsLiteralOnly() {
    assertThat(ConmgrConfValidator.isIpAddress("192.0.2.1")).isTrue();
    assertThat(ConmgrConfValidator.isIpAddress("::")).isTrue();
    assertThat(ConmgrConfValidator.isIpAddress("2001:db8::1")).isTrue();
    assertThat(ConmgrConfValidator.isIpAddress("::ffff:192.0.2.1")).isTrue();
    assertThat(ConmgrConfValidator.isIpAddress("localhost")).isFalse();
    assertThat(ConmgrConfValidator.isIpAddress("192.0.2.01")).isFalse();
    assertThat(ConmgrConfValidator.isIpAddress("1.2.3")).isFalse();
    assertThat(ConmgrConfValidator.isIpAddress("1.2.3.4.5")).isFalse();
    assertThat(ConmgrConfValidator.isIpAddress("2001:db8::1::2")).isFalse();
    assertThat(ConmgrConfValidator.isIpAddress("")).isFalse();
    assertThat(ConmgrConfValidator.isHost("pg-0.pg.default.svc.cluster.local")).isTrue();
    assertThat(ConmgrConfValidator.isHost("-bad")).isFalse();
  }
}
