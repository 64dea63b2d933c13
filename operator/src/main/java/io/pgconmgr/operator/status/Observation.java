package io.pgconmgr.operator.status;

import io.pgconmgr.protocol.heartbeat.Attributes;

/**
 * What the operator's heartbeat session with one watchdog currently knows.
 *
 * @param linkUp     the heartbeat link is established and not timed out
 * @param attributes the last attributes the watchdog sent; null before the first
 */
public record Observation(boolean linkUp, Attributes attributes) {
  public static final Observation NONE = new Observation(false, null);
}
