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

  /**
   * A frame arrived {@code nanos} after the previous frame of the same connection (called for every
   * frame but a connection's first). With the link idle that is the watchdog's interval plus any
   * delay on either side or the network: how close the link came to its timeout.
   */
  default void frameGap(long nanos) {
  }

  /** A link that was up is down; {@code reason} says why, for logs and status. */
  default void linkDown(String reason) {
  }
}
