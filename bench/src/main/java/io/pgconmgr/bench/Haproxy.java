package io.pgconmgr.bench;

import java.util.List;

/** HAProxy in TCP mode on loopback in front of one PostgreSQL instance: the layer-4 proxy anchor. */
public final class Haproxy extends LoopbackProxy {

    /** {@code maxconn} is bounded by the process's file descriptor limit (two per proxied connection). */
    public Haproxy(String backendHost, int backendPort, int maxconn) {
        super("haproxy");
        String cfg = String.join("\n",
                "global",
                "    maxconn " + maxconn,
                "defaults",
                "    mode tcp",
                "    timeout connect 5s",
                "    timeout client 1h",
                "    timeout server 1h",
                "listen postgres",
                "    bind 127.0.0.1:" + port,
                "    server pg " + backendHost + ":" + backendPort,
                "");
        dir.write("haproxy.cfg", cfg);
        start("haproxy", List.of("haproxy", "-db", "-f", dir.resolve("haproxy.cfg").toString()), "haproxy.log");
    }
}
