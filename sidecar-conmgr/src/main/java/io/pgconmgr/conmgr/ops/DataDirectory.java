package io.pgconmgr.conmgr.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * conmgr's directory ({@code -D} / {@code CMDATA}): conmgr.conf, and while it runs conmgr.pid
 * (pid, directory, start time, state) and conmgr.status (the instance table), both rewritten
 * atomically so {@code cm_ctl} never reads half a file.
 */
public final class DataDirectory {

  public static final String CONF = "conmgr.conf";
  public static final String PID = "conmgr.pid";
  public static final String STATUS = "conmgr.status";

  /** Values of the state line of conmgr.pid. */
  public enum State { STARTING, READY, STOPPING }

  private final Path dir;
  private final long startedAt = System.currentTimeMillis() / 1000;
  private String listening = "";

  public DataDirectory(Path dir) {
    this.dir = dir;
  }

  public Path dir() {
    return dir;
  }

  public Path conf() {
    return dir.resolve(CONF);
  }

  /** The pid of a live conmgr that owns this directory, if any (a stale pid file is ignored). */
  public Optional<Long> runningPid() {
    try {
      List<String> lines = Files.readAllLines(dir.resolve(PID), StandardCharsets.UTF_8);
      long pid = Long.parseLong(lines.get(0).trim());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(ProcessHandle::pid);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Claims the directory for this process; fails when another live conmgr holds it. */
  public void claim(String listening) throws IOException {
    Optional<Long> other = runningPid().filter(p -> p != ProcessHandle.current().pid());
    if (other.isPresent()) {
      throw new IOException("another conmgr (pid " + other.get() + ") is running in " + dir.toAbsolutePath()
          + "; stop it first (cm_ctl stop -D " + dir + ")");
    }
    this.listening = listening;
    state(State.STARTING);
  }

  /** Rewrites conmgr.pid with the given state line. */
  public void state(State state) throws IOException {
    String text = ProcessHandle.current().pid() + "\n" + dir.toAbsolutePath() + "\n" + startedAt + "\n" + listening
        + "\n" + state.name().toLowerCase(java.util.Locale.ROOT) + "\n";
    write(PID, text);
  }

  public void status(String text) throws IOException {
    write(STATUS, text);
  }

  /** Removes conmgr.pid and conmgr.status at a clean stop. */
  public void release() {
    try {
      Files.deleteIfExists(dir.resolve(STATUS));
      Files.deleteIfExists(dir.resolve(PID));
    } catch (IOException e) {
      // Nothing to do at exit; a stale pid file is recognised by its dead pid.
    }
  }

  private void write(String name, String text) throws IOException {
    Path tmp = dir.resolve(name + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    try {
      Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
