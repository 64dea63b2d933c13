package io.pgconmgr.bench;

import io.pgconmgr.testkit.ServerUser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * bin/kernel-relay-agent (built with gcc on first use, needs root here) for the conmgr column whose
 * proxied connections the kernel relays (docs/kernel-relay.md); its socket is given to the user conmgr
 * runs as.
 */
final class KernelRelayAgent implements AutoCloseable {

    private final WorkDir dir = new WorkDir("kernel-relay-agent");
    private final Process process;

    KernelRelayAgent() {
        process = Proc.start(List.of(Sidecars.ROOT.resolve("bin/kernel-relay-agent").toString(), "-s", socket().toString()),
                dir.resolve("agent.log"));
        long deadline = System.nanoTime() + 60_000_000_000L; // gcc's first build included
        while (!Files.exists(socket())) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("kernel relay agent did not start: " + log());
            }
            Net.sleep(java.time.Duration.ofMillis(20));
        }
        ServerUser.own(socket());
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("agent.log"));
        } catch (java.io.IOException e) {
            return "(no log: " + e + ")";
        }
    }

    Path socket() {
        return dir.resolve("agent.sock");
    }

    @Override
    public void close() {
        Proc.kill(process);
        dir.close();
    }
}
