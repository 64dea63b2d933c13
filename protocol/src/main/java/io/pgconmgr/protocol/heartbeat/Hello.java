package io.pgconmgr.protocol.heartbeat;

/**
 * First frame a client sends: the protocol version it speaks and the heartbeat timing the
 * watchdog must use for this peer (each peer may use its own).
 *
 * @param version             protocol version of the client, {@link HeartbeatProtocol#VERSION}
 * @param heartbeatIntervalMs how often both ends send a {@link Heartbeat}
 * @param heartbeatTimeoutMs  silence after which either end declares the link down
 * @param peerName            free text naming the client (pod or host name), for logs only
 */
public record Hello(int version, int heartbeatIntervalMs, int heartbeatTimeoutMs, String peerName)
    implements Frame {
}
