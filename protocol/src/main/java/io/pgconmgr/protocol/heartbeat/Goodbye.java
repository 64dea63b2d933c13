package io.pgconmgr.protocol.heartbeat;

/**
 * Last frame before a clean close. From a conmgr it means "my clients are gone" (the watchdog
 * treats the peer as lost); from a watchdog it explains a refusal or a shutdown.
 *
 * @param reason short human-readable text, for logs
 */
public record Goodbye(String reason) implements Frame {
}
