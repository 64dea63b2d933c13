package io.pgconmgr.protocol.heartbeat;

import java.net.InetSocketAddress;

/**
 * A consistent snapshot of one {@link HeartbeatClient}, for status pages and metrics.
 *
 * @param host                  the host name or literal address the client was given
 * @param port                  the watchdog port
 * @param linkUp                the Hello was answered and nothing has been silent for the timeout
 * @param attributes            the last attributes received, kept after a link down; null before
 *                              the first link up (check {@code linkUp} before trusting them)
 * @param remoteAddress         address of the current or last connection attempt (after name
 *                              resolution); null before the first resolution
 * @param lastError             why the last attempt failed or the last link went down; null if
 *                              nothing failed yet
 * @param connectAttempts       connect attempts so far (each resolves the host name again)
 * @param linkDowns             times the link went from up to down
 * @param heartbeatsSent        heartbeats written, all connections together
 * @param heartbeatsReceived    heartbeats received, all connections together
 * @param handshakeMillis       Hello sent to first Attributes received on the current or last
 *                              link: one round trip plus the watchdog's answer time; -1 if none
 * @param lastReceivedAgeMillis time since the last frame on the current connection; -1 when
 *                              there is no connection or nothing arrived yet
 */
public record HeartbeatStatus(
    String host,
    int port,
    boolean linkUp,
    Attributes attributes,
    InetSocketAddress remoteAddress,
    String lastError,
    long connectAttempts,
    long linkDowns,
    long heartbeatsSent,
    long heartbeatsReceived,
    long handshakeMillis,
    long lastReceivedAgeMillis) {
}
