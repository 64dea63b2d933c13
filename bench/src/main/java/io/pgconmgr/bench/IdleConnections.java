package io.pgconmgr.bench;

import io.pgconmgr.testkit.NetNamespace;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Idle TCP connections from the root namespace to an {@link IdleSink} on a test host, and the packets they cost. */
final class IdleConnections implements AutoCloseable {

    /** Applies socket options before connect. */
    interface Tuner {
        Socket tune(Socket s) throws IOException;
    }

    private final NetNamespace ns;
    private final Process sink;
    private final int port;
    private volatile int proxiedSeen;

    private IdleConnections(NetNamespace ns, Process sink, int port) {
        this.ns = ns;
        this.sink = sink;
        this.port = port;
    }

    /** Starts a sink JVM (this jar) inside the namespace on the test host's address, or on loopback when ns is null. */
    static IdleConnections startSink(NetNamespace ns) {
        int port = Net.freePort();
        String address = ns == null ? "127.0.0.1" : ns.hostAddress();
        List<String> cmd = List.of(javaBinary(), "-Xmx64m", "-XX:+UseSerialGC", "-cp", ownJar(), IdleSink.class.getName(),
                address, String.valueOf(port));
        Process p;
        try {
            p = Proc.track(ns == null
                    ? new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    : ns.exec(cmd, ProcessBuilder.Redirect.DISCARD));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Net.awaitListening("idle sink", address, port, Duration.ofSeconds(30), p);
        return new IdleConnections(ns, p, port);
    }

    int port() {
        return port;
    }

    /** Opens {@code n} connections, lets keepalive start, counts packets on the link for {@code window}: pps. */
    double measure(int n, Duration window, Tuner tuner) throws IOException {
        List<Socket> sockets = new ArrayList<>(n);
        try {
            for (int i = 0; i < n; i++) {
                Socket s = tuner.tune(new Socket());
                sockets.add(s);
                s.connect(new InetSocketAddress(ns.hostAddress(), port), 5000);
            }
            Net.sleep(Duration.ofSeconds(3)); // past the keepalive idle time, so probes are steady
            return packetsPerSecond(ns, window);
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
            Net.sleep(Duration.ofSeconds(1));
        }
    }

    /**
     * Opens {@code n} connections to conmgr on loopback, each sending a startup packet so conmgr opens its
     * proxied connection to the sink on the test host, then counts packets on the test host's link.
     */
    double measureThroughConmgr(int n, Duration window, int conmgrPort) throws IOException {
        List<Socket> sockets = new ArrayList<>(n);
        byte[] startup = PgWire.startup("user", "postgres", "database", "postgres");
        try {
            for (int i = 0; i < n; i++) {
                Socket s = new Socket();
                sockets.add(s);
                s.connect(new InetSocketAddress("127.0.0.1", conmgrPort), 5000);
                s.getOutputStream().write(startup);
            }
            Net.sleep(Duration.ofSeconds(3));
            proxiedSeen = establishedAtSink();
            return packetsPerSecond(ns, window);
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
            Net.sleep(Duration.ofSeconds(1));
        }
    }

    /** Proxied connections the sink held during the last {@link #measureThroughConmgr} window. */
    int proxiedSeen() {
        return proxiedSeen;
    }

    /** Connections the sink holds right now (established TCP sockets on its port, counted by ss in the namespace). */
    int establishedAtSink() {
        List<String> ss = List.of("ss", "-Htn", "state", "established", "( sport = :" + port + " )");
        String out = ns == null ? Proc.run(ss, Duration.ofSeconds(30)).output() : ns.run(ss).orThrow().output();
        return (int) out.lines().filter(l -> !l.isBlank()).count();
    }

    /** Packets per second through the namespace's veth (received plus sent) over {@code window}. */
    static double packetsPerSecond(NetNamespace ns, Duration window) {
        long p0 = packets(ns);
        long t0 = System.nanoTime();
        Net.sleep(window);
        long p1 = packets(ns);
        return (p1 - p0) / ((System.nanoTime() - t0) / 1e9);
    }

    private static long packets(NetNamespace ns) {
        String dir = "/sys/class/net/" + ns.interfaceName() + "/statistics/";
        String out = ns.run(List.of("cat", dir + "rx_packets", dir + "tx_packets")).orThrow().output();
        return out.lines().map(String::trim).filter(l -> !l.isEmpty()).mapToLong(Long::parseLong).sum();
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** The jar (or classes directory) this class was loaded from. */
    static String ownJar() {
        try {
            return Path.of(IdleSink.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        Proc.kill(sink);
    }
}
