package io.pgconmgr.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Promotion changes the topology, so this test owns its cluster (with TLS, checked on the way). */
class PgFailoverTest {

    @Test
    void promotedStandbyTakesWritesOtherStandbyFollowsAndOldPrimaryRejoins() throws Exception {
        try (PgCluster cluster = PgCluster.builder().standbys(2).ssl().start()) {
            PgInstance oldPrimary = cluster.primary();
            PgInstance next = cluster.standby(0);
            PgInstance other = cluster.standby(1);
            assertTlsWorks(oldPrimary);
            assertThat(cluster.currentPrimary()).isSameAs(oldPrimary);
            assertThat(next.isInRecovery()).isTrue();

            oldPrimary.stop();
            long t0 = System.nanoTime();
            next.promote();
            System.out.printf("promote to pg_is_in_recovery()=false: %d ms%n", (System.nanoTime() - t0) / 1_000_000);

            assertThat(next.isInRecovery()).isFalse();
            assertThat(cluster.currentPrimary()).isSameAs(next);
            next.execute("create table after_promote(v text)");
            next.execute("insert into after_promote values ('x')");

            other.follow(next);
            PgInstance.await("row on the standby that follows the new primary", Duration.ofSeconds(60),
                    () -> "1".equals(other.queryScalar("select count(*) from after_promote")));

            t0 = System.nanoTime();
            oldPrimary.rebuildAsStandbyOf(next);
            System.out.printf("old primary rebuilt as standby in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertThat(oldPrimary.isInRecovery()).isTrue();
            next.execute("insert into after_promote values ('y')");
            PgInstance.await("row on the rejoined old primary", Duration.ofSeconds(60),
                    () -> "2".equals(oldPrimary.queryScalar("select count(*) from after_promote")));
        }
    }

    private static void assertTlsWorks(PgInstance pg) throws Exception {
        Properties props = new Properties();
        props.setProperty("sslmode", "require");
        try (var c = pg.connect("postgres", props);
             var rs = c.createStatement().executeQuery("select ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).isTrue();
        }
    }
}
