package io.pgconmgr.protocol.heartbeat;

/** Constants of the heartbeat wire protocol (docs/heartbeat-protocol.md). */
public final class HeartbeatProtocol {
  /** Version this build speaks; a peer announcing another version is refused with a Goodbye. */
  public static final int VERSION = 1;
  /** Default TCP port of a watchdog (seed: {@code watchdog.port}). */
  public static final int DEFAULT_WATCHDOG_PORT = 27545;

  private HeartbeatProtocol() {
  }
}
