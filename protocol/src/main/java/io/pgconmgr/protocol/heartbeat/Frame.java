package io.pgconmgr.protocol.heartbeat;

/**
 * One message on the heartbeat channel between a conmgr (or the operator) and a watchdog.
 * The wire layout is specified in docs/heartbeat-protocol.md.
 */
public sealed interface Frame permits Hello, Attributes, Heartbeat, Goodbye {
}
