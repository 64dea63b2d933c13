package io.pgconmgr.protocol.heartbeat;

/**
 * Periodic liveness frame, sent by both ends every heartbeat interval.
 *
 * @param sequence     increases by one per heartbeat sent on this connection
 * @param sentAtMillis sender's wall clock, for round-trip and jitter figures only
 */
public record Heartbeat(long sequence, long sentAtMillis) implements Frame {
}
