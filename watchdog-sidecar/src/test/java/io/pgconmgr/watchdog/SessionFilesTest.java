package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionFilesTest {
  private static PeerSession peer(String ip, int port, int interval, int timeout) throws Exception {
    return new PeerSession(InetAddress.getByName(ip), port, interval, timeout, "pod-a",
        Instant.ofEpochMilli(1_700_000_000_123L));
  }

  @Test
  void statCsvHasTheSeedColumnsInWholeSecondsRoundedUp() throws Exception {
    String csv = SessionFiles.statCsv(List.of(peer("10.1.2.3", 40000, 10_000, 20_000),
        peer("::1", 40001, 500, 1500)));
    assertThat(csv).isEqualTo("""
        conmgr_addr,conmgr_port,heartbeat_interval,heartbeat_timeout
        10.1.2.3,40000,10,20
        0:0:0:0:0:0:0:1,40001,1,2
        """);
  }

  @Test
  void stateFileRoundTripsThePeers(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("sub/peers.state");
    List<PeerSession> peers = List.of(peer("10.1.2.3", 40000, 1000, 3000),
        peer("10.1.2.4", 40001, 2000, 5000));
    SessionFiles.writeAtomically(file, SessionFiles.state(peers));
    List<PeerSession> back = SessionFiles.readState(file);
    assertThat(back).extracting(PeerSession::address, PeerSession::port,
            PeerSession::heartbeatIntervalMs, PeerSession::heartbeatTimeoutMs,
            PeerSession::connectedAt)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(peers.get(0).address(), 40000, 1000, 3000,
                peers.get(0).connectedAt()),
            org.assertj.core.groups.Tuple.tuple(peers.get(1).address(), 40001, 2000, 5000,
                peers.get(1).connectedAt()));
    assertThat(SessionFiles.readState(dir.resolve("missing"))).isEmpty();
  }

  @Test
  void badStateFileLineNamesFileAndLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("peers.state");
    Files.writeString(file, "# header\n10.0.0.1,1,2\n");
    assertThatThrownBy(() -> SessionFiles.readState(file)).isInstanceOf(IOException.class)
        .hasMessageContaining("peers.state:2: invalid peer line");
  }

  @Test
  void atomicWriteFollowsASymlinkAndLeavesAWorldReadableFile(@TempDir Path dir)
      throws Exception {
    Path target = dir.resolve("shared/stat.csv");
    Files.createDirectories(target.getParent());
    Files.writeString(target, "old");
    Path link = dir.resolve("pgx_stat_watchdog.csv");
    Files.createSymbolicLink(link, target);
    SessionFiles.writeAtomically(link, "new\n");
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(target)).isEqualTo("new\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target)))
        .isEqualTo("rw-r--r--");
    try (var files = Files.list(target.getParent())) {
      assertThat(files).hasSize(1); // no temp file left behind
    }
  }
}
