package io.pgconmgr.bench;

import io.pgconmgr.testkit.PgInstance;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Looks at an instance's backends over its unix socket, which a cut of the test host's network link
 * does not touch (pathname unix sockets are reachable from every network namespace).
 */
final class ServerWatch {

    private final PgInstance pg;

    ServerWatch(PgInstance pg) {
        this.pg = pg;
    }

    /** application_name of every client backend whose name starts with {@code prefix}. */
    Set<String> applications(String prefix) {
        return applicationsWhere(prefix, "");
    }

    /** Applications whose backend is running a statement now (state 'active'), not just connected. */
    Set<String> activeApplications(String prefix) {
        return applicationsWhere(prefix, " and state = 'active'");
    }

    private Set<String> applicationsWhere(String prefix, String condition) {
        Proc.Result r = psql("select application_name from pg_stat_activity where application_name like '"
                + prefix + "%'" + condition);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("cannot read pg_stat_activity of " + pg.name() + ": " + r.output());
        }
        return r.output().lines().map(String::trim).filter(l -> !l.isEmpty()).collect(Collectors.toSet());
    }

    /** Terminates the backends left over by a measurement. */
    void terminate(String prefix) {
        psql("select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name like '" + prefix + "%'");
    }

    private Proc.Result psql(String sql) {
        return Proc.run(List.of("psql", "-X", "-At", "-h", pg.socketDir().toString(), "-p", String.valueOf(pg.port()),
                "-U", PgInstance.SUPERUSER, "-d", "postgres", "-c", sql), Duration.ofSeconds(20));
    }
}
