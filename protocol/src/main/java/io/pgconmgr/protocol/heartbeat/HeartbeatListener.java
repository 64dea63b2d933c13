package io.pgconmgr.protocol.heartbeat;

/**
 * Receives the link events of one {@link HeartbeatClient}. Called on the client's event loop, one
 * call at a time and in order: implementations must return quickly and never block.
 */
public interface HeartbeatListener {
  /** The watchdog answered the Hello: the link is up with these attributes. */
  default void linkUp(Attributes attributes) {
  }

  /** The watchdog pushed attributes that differ from the last ones (only while the link is up). */
  default void attributesChanged(Attributes attributes) {
  }

  /** A link that was up is down; {@code reason} says why, for logs and status. */
  default void linkDown(String reason) {
  }
}
