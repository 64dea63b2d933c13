package io.pgconmgr.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Promotion changes the topology, so it gets a cluster of its own. */
class PgPromoteTest {

    @Test
    void promoteTurnsStandbyIntoWritablePrimary() {
        try (PgCluster cluster = PgCluster.builder().standbys(1).ssl().start()) {
            PgInstance standby = cluster.standby(0);
            assertThat(standby.isInRecovery()).isTrue();
            cluster.primary().stop();

            long t0 = System.nanoTime();
            standby.promote();
            System.out.printf("promote to pg_is_in_recovery()=false: %d ms%n", (System.nanoTime() - t0) / 1_000_000);

            assertThat(standby.isInRecovery()).isFalse();
            standby.execute("create table after_promote(i int)");
            assertThat(standby.queryScalar("select count(*) from after_promote")).isEqualTo("0");
        }
    }

    @Test
    void sslClusterAcceptsTlsConnections() throws Exception {
        try (PgCluster cluster = PgCluster.builder().ssl().start()) {
            var props = new java.util.Properties();
            props.setProperty("sslmode", "require");
            try (var c = cluster.primary().connect("postgres", props);
                 var rs = c.createStatement().executeQuery("select ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).isTrue();
            }
        }
    }
}
