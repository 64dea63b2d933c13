package io.pgconmgr.bench;

import java.io.IOException;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * PgJDBC socket factory that hands every socket of one connection attempt to that attempt's
 * {@link AwareClient} watcher, so a failure notice from conmgr can close a socket still in
 * {@code connect()} or in the startup exchange. PgJDBC builds the factory by class name with
 * {@code socketFactoryArg} as the only argument: the argument is the attempt's key here.
 */
public final class WatchedSocketFactory extends UnconnectedSocketFactory {

    /** Receives each socket PgJDBC creates for the attempt (before it connects it). */
    interface Sink {
        void track(Socket s) throws IOException;
    }

    private static final Map<String, Sink> ATTEMPTS = new ConcurrentHashMap<>();
    private static final AtomicLong KEYS = new AtomicLong();

    private final Sink sink;

    /** PgJDBC calls this constructor with {@code socketFactoryArg}. */
    public WatchedSocketFactory(String key) {
        sink = ATTEMPTS.get(key);
        if (sink == null) {
            throw new IllegalArgumentException("no connection attempt registered under socketFactoryArg '" + key + "'");
        }
    }

    /** Registers {@code sink} for one attempt; returns the key to pass as {@code socketFactoryArg}. */
    static String register(Sink sink) {
        String key = Long.toString(KEYS.incrementAndGet());
        ATTEMPTS.put(key, sink);
        return key;
    }

    static void unregister(String key) {
        ATTEMPTS.remove(key);
    }

    @Override
    public Socket createSocket() throws IOException {
        // PgJDBC connects the unconnected socket itself: tracking it first makes the connect abortable.
        Socket s = new Socket();
        sink.track(s);
        return s;
    }
}
