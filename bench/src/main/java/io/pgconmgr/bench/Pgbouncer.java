package io.pgconmgr.bench;

import io.pgconmgr.testkit.ServerUser;
import java.util.List;

/**
 * PgBouncer in session mode on loopback in front of one PostgreSQL instance: the pooler anchor. Its pid is the
 * runuser wrapper's; its child is pgbouncer.
 */
public final class Pgbouncer extends LoopbackProxy {

    /** PgBouncer refuses to run as root: it runs as the test kit's server user. */
    public Pgbouncer(String backendHost, int backendPort, int maxClientConn, int poolSize) {
        super("pgbouncer");
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
        start("pgbouncer", ServerUser.wrap(List.of("pgbouncer", dir.resolve("pgbouncer.ini").toString())),
                "pgbouncer.out");
    }
}
