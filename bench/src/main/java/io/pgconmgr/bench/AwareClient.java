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
import java.util.Properties;

/**
 * A PgJDBC connection made the aware-client way (docs/aware-client-protocol.md): ask conmgr where to
 * connect, connect there directly, and keep conmgr's socket as the failure-notice channel. A notice,
 * end of stream or error on that socket aborts the database connection at once.
 */
final class AwareClient implements AutoCloseable {

    private final Socket channel;
    private final Connection connection;
    private final String instanceAddress;
    private volatile String notice;

    private AwareClient(Socket channel, Connection connection, String instanceAddress) {
        this.channel = channel;
        this.connection = connection;
        this.instanceAddress = instanceAddress;
    }

    static AwareClient connect(String conmgrHost, int conmgrPort, String target, String database, Properties props)
            throws IOException, SQLException {
        Socket s = new Socket();
        try {
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
            Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + database, props);
            AwareClient client = new AwareClient(s, c, host + ":" + port);
            client.watch();
            return client;
        } catch (IOException | SQLException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    Connection connection() {
        return connection;
    }

    String instanceAddress() {
        return instanceAddress;
    }

    /** The failure notice's reason (or "end of stream"), once the channel fired. */
    String notice() {
        return notice;
    }

    private void watch() {
        Thread t = new Thread(() -> {
            String reason;
            try {
                DataInputStream in = new DataInputStream(channel.getInputStream());
                int type = in.read();
                if (type == 'M') {
                    in.readInt();
                    int kind = in.read();
                    if (kind == 'F') {
                        in.readInt();
                        reason = "failure notice: " + cstring(in);
                    } else {
                        reason = "unexpected conmgr message kind " + (char) kind;
                    }
                } else {
                    reason = type < 0 ? "conmgr channel closed" : "unexpected byte on conmgr channel";
                }
            } catch (IOException e) {
                reason = "conmgr channel error: " + e.getMessage();
            }
            notice = reason;
            try {
                connection.abort(Runnable::run); // the in-flight statement fails now
            } catch (SQLException ignored) {
                // already broken
            }
        }, "aware-channel");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() {
        try {
            connection.abort(Runnable::run);
        } catch (SQLException ignored) {
            // closing anyway
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
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
