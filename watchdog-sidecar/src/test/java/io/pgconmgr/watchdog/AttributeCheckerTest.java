package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.protocol.heartbeat.Attributes;
import org.junit.jupiter.api.Test;

class AttributeCheckerTest {
  private static Attributes standby(long lagMs) {
    return new Attributes(true, true, false, 1, 42, lagMs, 170006);
  }

  @Test
  void replayLagCountsAsAChangeOnlyAcrossOrdersOfMagnitude() {
    assertThat(AttributeChecker.sameForPeers(standby(0), standby(0))).isTrue();
    assertThat(AttributeChecker.sameForPeers(standby(0), standby(5))).isFalse();
    assertThat(AttributeChecker.sameForPeers(standby(200), standby(900))).isTrue();
    assertThat(AttributeChecker.sameForPeers(standby(900), standby(1500))).isFalse();
    assertThat(AttributeChecker.sameForPeers(standby(20_000), standby(50_000))).isTrue();
    assertThat(AttributeChecker.sameForPeers(standby(50_000), standby(70_000))).isFalse();
  }

  @Test
  void everyOtherFieldIsAChange() {
    Attributes a = standby(0);
    assertThat(AttributeChecker.sameForPeers(a, Attributes.UNREACHABLE)).isFalse();
    assertThat(AttributeChecker.sameForPeers(a, new Attributes(true, false, false, 1, 42, 0,
        170006))).isFalse();
    assertThat(AttributeChecker.sameForPeers(a, new Attributes(true, true, true, 1, 42, 0,
        170006))).isFalse();
    assertThat(AttributeChecker.sameForPeers(a, new Attributes(true, true, false, 2, 42, 0,
        170006))).isFalse();
    assertThat(AttributeChecker.sameForPeers(a, new Attributes(true, true, false, 1, 43, 0,
        170006))).isFalse();
    assertThat(AttributeChecker.sameForPeers(a, new Attributes(true, true, false, 1, 42, 0,
        170007))).isFalse();
  }
}
