package io.pgconmgr.bench;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A PgJDBC connection made the aware-client way (docs/aware-client-protocol.md): ask conmgr where to
 * connect, connect there directly, and watch conmgr's socket from its answer on. A notice, end of
 * stream or error on that socket aborts the database connection, or the connect still in flight
 * (then conmgr is asked again: the instance it named is gone).
 */
final class AwareClient implements AutoCloseable {

    /**
     * How many times one connect asks conmgr. Each ask after the first follows a notice, a real change
     * in conmgr's view (a failover), so more than a couple in a row means something is wrong.
     */
    private static final int ASKS = 3;

    private final Watch watch;
    private final Connection connection;
    private final String instanceAddress;

    private AwareClient(Watch watch, Connection connection, String instanceAddress) {
        this.watch = watch;
        this.connection = connection;
        this.instanceAddress = instanceAddress;
    }

    /** Asks conmgr for an instance matching {@code target} and connects to it; {@code props} are PgJDBC's. */
    static AwareClient connect(String conmgrHost, int conmgrPort, String target, String database, Properties props)
            throws IOException, SQLException {
        for (int ask = 1; ; ask++) {
            Socket channel = new Socket();
            String address;
            try {
                address = ask(channel, conmgrHost, conmgrPort, target, database, props);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            // Watching starts now, not once connected: the instance may be withdrawn while we connect
            // (e.g. an old primary whose host is cut, where the connect would wait out connectTimeout).
            Watch watch = new Watch(channel);
            String key = WatchedSocketFactory.register(watch);
            Properties p = new Properties();
            p.putAll(props);
            p.setProperty("socketFactory", WatchedSocketFactory.class.getName());
            p.setProperty("socketFactoryArg", key);
            Connection c = null;
            SQLException failure = null;
            try {
                c = DriverManager.getConnection("jdbc:postgresql://" + address + "/" + database, p);
            } catch (SQLException e) {
                failure = e;
            } catch (RuntimeException e) {
                watch.close();
                throw e;
            } finally {
                WatchedSocketFactory.unregister(key);
            }
            if (c != null && watch.established(c)) {
                return new AwareClient(watch, c, address);
            }
            String notice = watch.notice(); // read before closing: our own close fires the watcher too
            watch.close();
            if (notice == null) {
                throw failure; // an ordinary connect failure, as without conmgr
            }
            if (ask == ASKS) {
                throw new SQLException("conmgr withdrew the instance it named during the connect " + ASKS
                        + " times in a row; last: " + notice, "08001", failure);
            }
        }
    }

    /** Phase one: the startup packet with the aware option; returns conmgr's answer as host:port. */
    private static String ask(Socket s, String conmgrHost, int conmgrPort, String target, String database,
            Properties props) throws IOException {
        s.connect(new InetSocketAddress(conmgrHost, conmgrPort), 5000);
        s.setSoTimeout(30_000);
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.write(PgWire.startup("user", props.getProperty("user", "postgres"), "database", database,
                "_pq_.conmgr_aware", target));
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        int type = in.read();
        if (type != 'M') {
            throw new IOException("conmgr answered with message type " + (type < 0 ? "EOF" : "'" + (char) type + "'")
                    + " instead of an instance address" + (type == 'E' ? ": " + errorText(in) : ""));
        }
        in.readInt();
        int kind = in.read();
        int version = in.readUnsignedShort();
        if (kind != 'A' || version != 1) {
            throw new IOException("unexpected conmgr message kind " + (char) kind + " version " + version);
        }
        String host = cstring(in);
        int port = in.readInt();
        in.readInt(); // instance number
        cstring(in); // role
        s.setSoTimeout(0);
        return host + ":" + port;
    }

    Connection connection() {
        return connection;
    }

    String instanceAddress() {
        return instanceAddress;
    }

    /** The failure notice's reason (or "end of stream"), once the channel fired. */
    String notice() {
        return watch.notice();
    }

    /** Closes the database connection (Terminate to the server) and then the conmgr channel. */
    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            abort(connection); // the server may be gone: do not wait for it
        }
        watch.close();
    }

    private static void abort(Connection c) {
        try {
            c.abort(Runnable::run); // does not wait for the server, which may be unreachable
        } catch (SQLException ignored) {
            // already broken
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /**
     * One thread blocked reading the conmgr socket. Whatever it reads (conmgr only ever sends the
     * failure notice) or an end of stream fires it: during the connect it closes the sockets PgJDBC
     * has open for the attempt, so the connect fails at once; afterwards it aborts the connection.
     */
    private static final class Watch implements WatchedSocketFactory.Sink {
        private final Socket channel;
        private final List<Socket> inFlight = new ArrayList<>();
        private Connection connection;
        private volatile String notice;

        Watch(Socket channel) {
            this.channel = channel;
            Thread t = new Thread(this::run, "aware-channel");
            t.setDaemon(true);
            t.start();
        }

        String notice() {
            return notice;
        }

        @Override
        public synchronized void track(Socket s) throws IOException {
            if (connection != null) {
                return; // after the connect PgJDBC uses the factory for cancel requests: not ours to watch
            }
            if (notice != null) {
                s.close(); // the instance is already withdrawn: PgJDBC's connect fails at once
            } else {
                inFlight.add(s);
            }
        }

        /** The connect succeeded: from now on a notice aborts {@code c}. False (and {@code c} aborted) if one came first. */
        synchronized boolean established(Connection c) {
            if (notice != null) {
                abort(c);
                return false;
            }
            connection = c;
            inFlight.clear();
            return true;
        }

        void close() {
            closeQuietly(channel);
        }

        private void run() {
            String reason;
            try {
                DataInputStream in = new DataInputStream(channel.getInputStream());
                int type = in.read();
                if (type == 'M') {
                    in.readInt();
                    int kind = in.read();
                    if (kind == 'F') {
                        int instance = in.readInt();
                        reason = "failure notice for instance " + instance + ": " + cstring(in);
                    } else {
                        reason = "unexpected conmgr message kind " + (char) kind;
                    }
                } else {
                    reason = type < 0 ? "conmgr channel closed" : "unexpected byte on conmgr channel";
                }
            } catch (IOException e) {
                reason = "conmgr channel error: " + e.getMessage();
            }
            List<Socket> sockets;
            Connection c;
            synchronized (this) {
                notice = reason;
                sockets = List.copyOf(inFlight);
                inFlight.clear();
                c = connection;
            }
            sockets.forEach(AwareClient::closeQuietly);
            if (c != null) {
                abort(c); // the in-flight statement fails now
            }
        }
    }

    private static String cstring(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) > 0) {
            b.write(c);
        }
        if (c < 0) {
            throw new IOException("end of stream inside a string");
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private static String errorText(DataInputStream in) throws IOException {
        int len = in.readInt();
        byte[] body = in.readNBytes(len - 4);
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < body.length && body[i] != 0) {
            char field = (char) body[i++];
            int start = i;
            while (i < body.length && body[i] != 0) {
                i++;
            }
            if (field == 'M' || field == 'D') {
                sb.append(new String(body, start, i - start, StandardCharsets.UTF_8)).append(' ');
            }
            i++;
        }
        return sb.toString().trim();
    }
}
