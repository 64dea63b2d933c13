package io.pgconmgr.bench;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import jdk.net.ExtendedSocketOptions;

/**
 * PgJDBC socket factory with tuned TCP keepalive (PgJDBC itself only offers tcpKeepAlive=true with the OS
 * defaults). Use {@code socketFactory=io.pgconmgr.bench.KeepaliveSocketFactory&socketFactoryArg=IDLE,INTERVAL,COUNT}
 * (seconds, seconds, probes).
 */
public final class KeepaliveSocketFactory extends UnconnectedSocketFactory {

    private final int idle;
    private final int interval;
    private final int count;

    /** PgJDBC calls this constructor with {@code socketFactoryArg}. */
    public KeepaliveSocketFactory(String arg) {
        String[] p = arg.split(",");
        if (p.length != 3) {
            throw new IllegalArgumentException("socketFactoryArg must be IDLE,INTERVAL,COUNT, got '" + arg + "'");
        }
        idle = Integer.parseInt(p[0].trim());
        interval = Integer.parseInt(p[1].trim());
        count = Integer.parseInt(p[2].trim());
    }

    /** Applies the keepalive settings to any socket (also used for the idle-connection packet count). */
    public static Socket tune(Socket s, int idle, int interval, int count) throws SocketException {
        try {
            s.setKeepAlive(true);
            s.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, idle);
            s.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, interval);
            s.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, count);
            return s;
        } catch (IOException e) {
            throw e instanceof SocketException se ? se : new SocketException(e.getMessage());
        }
    }

    @Override
    public Socket createSocket() throws IOException {
        // PgJDBC connects the unconnected socket itself; the options hold across connect.
        return tune(new Socket(), idle, interval, count);
    }
}
