package io.pgconmgr.watchdog;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The two files the watchdog keeps from its live sessions: the CSV behind pgx_stat_watchdog
 * (read by file_fdw) and the state file a restarted watchdog reads to remember its peers. Both
 * are replaced atomically so readers never see half a file.
 */
final class SessionFiles {
  static final String STAT_HEADER =
      "conmgr_addr,conmgr_port,heartbeat_interval,heartbeat_timeout";
  private static final String STATE_HEADER = "# pgconmgr watchdog peers v1:"
      + " address,port,heartbeat_interval_ms,heartbeat_timeout_ms,connected_at_epoch_ms";

  private SessionFiles() {
  }

  /** pgx_stat_watchdog rows; intervals in whole seconds (rounded up), as the seed's view. */
  static String statCsv(List<PeerSession> sessions) {
    StringBuilder sb = new StringBuilder(STAT_HEADER).append('\n');
    for (PeerSession s : sessions) {
      sb.append(s.address().getHostAddress()).append(',').append(s.port()).append(',')
          .append(ceilSeconds(s.heartbeatIntervalMs())).append(',')
          .append(ceilSeconds(s.heartbeatTimeoutMs())).append('\n');
    }
    return sb.toString();
  }

  static int ceilSeconds(int ms) {
    return (int) ((ms + 999L) / 1000);
  }

  static String state(List<PeerSession> sessions) {
    StringBuilder sb = new StringBuilder(STATE_HEADER).append('\n');
    for (PeerSession s : sessions) {
      sb.append(s.address().getHostAddress()).append(',').append(s.port()).append(',')
          .append(s.heartbeatIntervalMs()).append(',').append(s.heartbeatTimeoutMs()).append(',')
          .append(s.connectedAt().toEpochMilli()).append('\n');
    }
    return sb.toString();
  }

  /** Peers of a state file; a missing file means none. Bad lines fail loudly. */
  static List<PeerSession> readState(Path file) throws IOException {
    List<PeerSession> peers = new ArrayList<>();
    if (!Files.exists(file)) {
      return peers;
    }
    int lineNo = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      lineNo++;
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split(",");
      try {
        if (f.length != 5) {
          throw new IllegalArgumentException("expected 5 fields, found " + f.length);
        }
        peers.add(new PeerSession(InetAddress.getByName(f[0].trim()), Integer.parseInt(f[1]),
            Integer.parseInt(f[2]), Integer.parseInt(f[3]), "",
            Instant.ofEpochMilli(Long.parseLong(f[4]))));
      } catch (RuntimeException | IOException e) {
        throw new IOException(file + ":" + lineNo + ": invalid peer line: " + e.getMessage(), e);
      }
    }
    return peers;
  }

  /** Replaces {@code file} by {@code content} with a rename in the same directory. */
  static void writeAtomically(Path file, String content) throws IOException {
    if (Files.isSymbolicLink(file)) {
      // Replace the file the link points to (e.g. in a shared volume), not the link itself.
      file = file.toRealPath();
    }
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      Files.writeString(tmp, content, StandardCharsets.UTF_8);
      // The PostgreSQL server runs as another user and must be able to read the CSV.
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      } catch (UnsupportedOperationException ignored) {
        // not a POSIX file system: keep the default permissions
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
