package io.pgconmgr.bench;

import java.time.Duration;
import java.util.List;

/** HAProxy in TCP mode on loopback in front of one PostgreSQL instance: the layer-4 proxy anchor. */
public final class Haproxy implements AutoCloseable {

    private final WorkDir dir = new WorkDir("haproxy");
    private final int port = Net.freePort();
    private final Process process;

    /** {@code maxconn} is bounded by the process's file descriptor limit (two per proxied connection). */
    public Haproxy(String backendHost, int backendPort, int maxconn) {
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
        process = Proc.start(List.of("haproxy", "-db", "-f", dir.resolve("haproxy.cfg").toString()), dir.resolve("haproxy.log"));
        Net.awaitListening("haproxy", "127.0.0.1", port, Duration.ofSeconds(15), process);
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        Proc.kill(process);
        dir.close();
    }
}
