package io.pgconmgr.protocol.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConfParser;
import org.junit.jupiter.api.Test;

/** conmgr.conf's heartbeat seconds turned into the milliseconds the Hello carries. */
class HeartbeatTimingTest {
  @Test
  void theDefaultsAreTheSeeds() {
    assertThat(HeartbeatTiming.DEFAULTS).isEqualTo(new HeartbeatTiming(10_000, 20_000, 1_000,
        10_000));
  }

  @Test
  void everyHeartbeatValueConmgrConfAcceptsGivesATiming() throws Exception {
    // The largest values the file accepts used to fail only when conmgr built its clients.
    ConmgrConf conf = ConmgrConfParser.parse("""
        backend_host0 = 'pg-0'
        heartbeat_interval = 2147483647
        heartbeat_timeout = 2147483647
        heartbeat_connect_interval = 2147483647
        heartbeat_connect_timeout = 2147483647
        """, "conmgr.conf");

    HeartbeatTiming t = HeartbeatTiming.ofSeconds(conf.heartbeatIntervalSeconds(),
        conf.heartbeatTimeoutSeconds(), conf.heartbeatConnectIntervalSeconds(),
        conf.heartbeatConnectTimeoutSeconds());

    assertThat(t).isEqualTo(new HeartbeatTiming(Integer.MAX_VALUE, Integer.MAX_VALUE,
        2_147_483_647_000L, Integer.MAX_VALUE));
  }

  @Test
  void secondsJustBelowTheCapAreExact() {
    assertThat(HeartbeatTiming.ofSeconds(2_147_483, 2_147_483, 1, 2_147_483)).isEqualTo(
        new HeartbeatTiming(2_147_483_000L, 2_147_483_000L, 1_000, 2_147_483_000L));
  }

  @Test
  void nonPositiveDurationsAreRefusedWithTheirName() {
    assertThatThrownBy(() -> HeartbeatTiming.ofSeconds(0, 20, 1, 10))
        .hasMessage("heartbeat interval must be 1..2147483647 ms, got 0");
    assertThatThrownBy(() -> new HeartbeatTiming(1000, 2000, 1000, -1))
        .hasMessage("heartbeat connect timeout must be 1..2147483647 ms, got -1");
  }
}
