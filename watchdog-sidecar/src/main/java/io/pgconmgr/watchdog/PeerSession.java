package io.pgconmgr.watchdog;

import java.net.InetAddress;
import java.time.Instant;

/**
 * One established heartbeat session: a row of pgx_stat_watchdog.
 *
 * @param address             the conmgr's IP (the terminator's key)
 * @param port                the conmgr's ephemeral port of this session
 * @param heartbeatIntervalMs interval announced in the peer's Hello
 * @param heartbeatTimeoutMs  timeout announced in the peer's Hello
 * @param peerName            free text from the Hello (pod or host name)
 * @param connectedAt         when the Hello arrived
 */
public record PeerSession(InetAddress address, int port, int heartbeatIntervalMs,
    int heartbeatTimeoutMs, String peerName, Instant connectedAt) {

  /** {@code addr:port} for logs. */
  public String endpoint() {
    String host = address.getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
