package io.pgconmgr.bench;

import io.pgconmgr.testkit.ServerUser;
import java.time.Duration;
import java.util.List;

/** PgBouncer in session mode on loopback in front of one PostgreSQL instance: the pooler anchor. */
public final class Pgbouncer implements AutoCloseable {

    private final WorkDir dir = new WorkDir("pgbouncer");
    private final int port = Net.freePort();
    private final Process process;

    /** PgBouncer refuses to run as root: it runs as the test kit's server user. */
    public Pgbouncer(String backendHost, int backendPort, int maxClientConn, int poolSize) {
        dir.write("userlist.txt", "\"postgres\" \"\"\n");
        String ini = String.join("\n",
                "[databases]",
                "* = host=" + backendHost + " port=" + backendPort,
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + port,
                "unix_socket_dir =",
                "auth_type = trust",
                "auth_file = " + dir.resolve("userlist.txt"),
                "pool_mode = session",
                "max_client_conn = " + maxClientConn,
                "default_pool_size = " + poolSize,
                "logfile = " + dir.resolve("pgbouncer.log"),
                "log_connections = 0",
                "log_disconnections = 0",
                "");
        dir.write("pgbouncer.ini", ini);
        ServerUser.own(dir.path());
        process = Proc.start(ServerUser.wrap(List.of("pgbouncer", dir.resolve("pgbouncer.ini").toString())),
                dir.resolve("pgbouncer.out"));
        Net.awaitListening("pgbouncer", "127.0.0.1", port, Duration.ofSeconds(15), process);
    }

    public int port() {
        return port;
    }

    /** The runuser wrapper's pid; its child is pgbouncer (CPU and memory are summed over the tree). */
    public long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        Proc.kill(process);
        dir.close();
    }
}
