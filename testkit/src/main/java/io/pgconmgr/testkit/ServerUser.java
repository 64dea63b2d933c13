package io.pgconmgr.testkit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The OS user PostgreSQL runs as. PostgreSQL refuses to run as root, so a root JVM runs the server
 * as the unprivileged {@value #NAME} (created on first use); any other JVM runs it as itself.
 */
public final class ServerUser {

    public static final String NAME = "pgconmgr-test";
    private static volatile boolean ensured;

    private ServerUser() {
    }

    /** True when server commands are wrapped in runuser. */
    public static boolean switchesUser() {
        return Cmd.isRoot();
    }

    /** Prefixes a command so it runs as the server user (no-op when not root). */
    public static List<String> wrap(List<String> command) {
        if (!switchesUser()) {
            return command;
        }
        ensureExists();
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", NAME, "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** Gives a freshly created file or tree to the server user (no-op when not root). */
    public static void own(Path path) {
        if (switchesUser()) {
            ensureExists();
            Cmd.run(List.of("chown", "-R", NAME + ":" + NAME, path.toString()));
        }
    }

    static synchronized void ensureExists() {
        if (ensured) {
            return;
        }
        if (!Cmd.exec(List.of("id", "-u", NAME), java.time.Duration.ofSeconds(10)).ok()) {
            Cmd.Result r = Cmd.exec(List.of("useradd", "--system", "--user-group", "--no-create-home",
                    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", NAME), java.time.Duration.ofSeconds(30));
            // Another JVM may have created it between our check and useradd (exit 9: already exists).
            if (!r.ok() && !Cmd.exec(List.of("id", "-u", NAME), java.time.Duration.ofSeconds(10)).ok()) {
                r.orThrow();
            }
        }
        ensured = true;
    }
}
