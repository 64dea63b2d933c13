package io.pgconmgr.bench;

import io.pgconmgr.testkit.PgInstance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The project's own sidecars for a benchmark: one watchdog per PostgreSQL instance (inside the
 * instance's namespace when it has one) and one conmgr on loopback, started from the bin/ launchers.
 */
final class Sidecars implements AutoCloseable {

    private Sidecars() {
    }

    /** Starts the sidecars when their launchers and jars are built, else null (see {@link #missingReason()}). */
    static Sidecars startIfBuilt(List<PgInstance> instances, Options options) {
        return missingReason() == null ? new Sidecars() : null;
    }

    /** Why the conmgr columns cannot be measured here, or null. */
    static String missingReason() {
        List<String> missing = new ArrayList<>();
        for (String launcher : List.of("bin/conmgr", "bin/watchdog")) {
            if (!Files.isExecutable(Path.of(launcher))) {
                missing.add(launcher);
            }
        }
        return missing.isEmpty() ? "sidecar launchers present but not wired into the bench yet"
                : "not built in this tree: " + String.join(", ", missing);
    }

    int conmgrPort() {
        throw new UnsupportedOperationException();
    }

    long conmgrPid() {
        throw new UnsupportedOperationException();
    }

    String describe() {
        return "";
    }

    List<InFlight> detectionClients(String prefix) {
        return List.of();
    }

    @Override
    public void close() {
    }
}
