package io.pgconmgr.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/** Loopback ports and readiness waits. */
public final class Net {

    private Net() {
    }

    /** A port free on every address right now (the caller binds it soon after). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            // Without SO_REUSEADDR the kernel skips ports still held by TIME_WAIT sockets, which a server
            // binding without it (as Netty does by default) would fail on. The wildcard address: some
            // servers (conmgr's HTTP port) bind it, and a port used on any address, e.g. by one of the
            // scale run's connections from 127.1.x.y, would make that bind fail.
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(0), 1);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until something accepts TCP connections on host:port, or fails naming what did not come up. */
    public static void awaitListening(String what, String host, int port, Duration timeout, Process process) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException(what + " exited with code " + process.exitValue() + " before listening on "
                        + host + ":" + port);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 500);
                return;
            } catch (IOException e) {
                sleep(Duration.ofMillis(50));
            }
        }
        throw new IllegalStateException(what + " not listening on " + host + ":" + port + " after " + timeout.toSeconds() + " s");
    }

    public static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
