package io.pgconmgr.bench;

import java.time.Duration;
import java.util.List;

/**
 * One of the minimal relays of {@code bench/experiments/relay.c} (copy or BPF sockmap) in front of one
 * PostgreSQL instance on loopback: not anchors a team would deploy, but the floor of a user-space relay
 * and what a relay inside the kernel gives (docs/BENCHMARKS.md, "Relays below Netty").
 */
public final class CRelay extends LoopbackProxy {

    /** Compiles the relay with gcc and starts it; the relay connects to 127.0.0.1 only. */
    public CRelay(String mode, int backendPort) {
        super("relay");
        String binary = dir.resolve("relay").toString();
        Proc.Result built = Proc.run(List.of("gcc", "-O2", "-o", binary,
                Sidecars.ROOT.resolve("bench/experiments/relay.c").toString()), Duration.ofSeconds(60));
        if (built.exitCode() != 0) {
            throw new IllegalStateException("gcc could not build bench/experiments/relay.c: " + built.output());
        }
        start("relay " + mode, List.of(binary, String.valueOf(port), String.valueOf(backendPort), mode), "relay.log");
    }
}
