package io.pgconmgr.bench;

import java.time.Duration;
import java.util.List;

/**
 * A relay the benchmarks run on a loopback port in front of one PostgreSQL instance, in a work directory of its
 * own: started and awaited by the subclass's constructor, killed with its descendants and cleaned up on close.
 */
abstract class LoopbackProxy implements AutoCloseable {

    protected final WorkDir dir;
    protected final int port = Net.freePort();
    private Process process;

    protected LoopbackProxy(String prefix) {
        dir = new WorkDir(prefix);
    }

    /** Starts {@code command} with its output in the work directory's {@code log} and waits until it listens. */
    protected final void start(String what, List<String> command, String log) {
        process = Proc.start(command, dir.resolve(log));
        Net.awaitListening(what, "127.0.0.1", port, Duration.ofSeconds(15), process);
    }

    public final int port() {
        return port;
    }

    /** The started process's pid (a wrapper's, where there is one: CPU and memory are summed over the tree). */
    public final long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        Proc.kill(process);
        dir.close();
    }
}
