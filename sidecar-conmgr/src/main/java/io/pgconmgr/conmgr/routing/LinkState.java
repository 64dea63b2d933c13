package io.pgconmgr.conmgr.routing;

/** State of the heartbeat link between this conmgr and one instance's watchdog. */
public enum LinkState {
  /** Never connected yet, or retrying after a failed connect. */
  CONNECTING,
  /** Hello answered, heartbeats flowing: the attributes are current. */
  UP,
  /** Heartbeat lost (timeout, reset, goodbye); the client retries connecting. */
  DOWN;

  /** Lower-case name for status output and metrics. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
