package io.pgconmgr.conmgr.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OpenFilesTest {

  @Test
  void twoDescriptorsPerConnectionAfterWhatIsOpenTheLinksToComeAndTheSpare() {
    OpenFiles f = OpenFiles.of(20_000, 50, 3);
    assertThat(f.reserved()).isEqualTo(50 + 3 + OpenFiles.SPARE);
    assertThat(f.connections()).isEqualTo((20_000 - 117) / 2);
    assertThat(f.belowMaxConnections(0)).as("unlimited (the default) is capped by the limit without a warning").isFalse();
    assertThat(f.belowMaxConnections(f.connections())).isFalse();
    assertThat(f.belowMaxConnections(f.connections() + 1)).isTrue();
  }

  @Test
  void aLimitBelowTheReserveLeavesNoRoomAndAnUnknownLimitLeavesItToMaxConnections() {
    assertThat(OpenFiles.of(100, 90, 1).connections()).isZero();
    OpenFiles unknown = OpenFiles.of(-1, 90, 1);
    assertThat(unknown.known()).isFalse();
    assertThat(unknown.connections()).isEqualTo(Integer.MAX_VALUE);
    assertThat(unknown.belowMaxConnections(0)).isFalse();
  }

  @Test
  void thisProcessHasAKnownLimit() {
    OpenFiles f = OpenFiles.measure(0);
    assertThat(f.known()).isTrue();
    assertThat(f.limit()).isGreaterThan(f.reserved());
  }
}
