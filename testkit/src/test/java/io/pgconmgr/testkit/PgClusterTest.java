package io.pgconmgr.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One primary + one standby shared by the tests of this class; every test leaves both running. */
class PgClusterTest {

    private static PgCluster cluster;

    @BeforeAll
    static void startCluster() {
        long t0 = System.nanoTime();
        cluster = PgCluster.builder().standbys(1).start();
        System.out.printf("cluster (primary + 1 standby) up in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
            assertThat(cluster.baseDir()).doesNotExist();
        }
    }

    @Test
    void primaryAcceptsWritesAndStandbyIsInRecovery() {
        assertThat(cluster.primary().isInRecovery()).isFalse();
        assertThat(cluster.standby(0).isInRecovery()).isTrue();
        assertThat(cluster.primary().queryScalar("show server_version")).startsWith("17.");
        assertThat(cluster.primary().queryScalar("select count(*) from pg_stat_replication where state = 'streaming'"))
                .isEqualTo("1");
    }

    @Test
    void serverRunsAsUnprivilegedUserWhenJvmIsRoot() {
        String owner = cluster.primary().queryScalar("select current_setting('data_directory')");
        assertThat(owner).isEqualTo(cluster.primary().dataDir().toString());
        if (Cmd.isRoot()) {
            assertThat(ProcessHandle.of(cluster.primary().pid()).flatMap(h -> h.info().user()))
                    .contains(ServerUser.NAME);
        }
    }

    @Test
    void rowWrittenOnPrimaryIsReadOnStandby() {
        cluster.primary().execute("create table if not exists t_repl(v text)");
        cluster.primary().execute("insert into t_repl values ('hello-standby')");
        await().ignoreExceptions().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(cluster.standby(0).queryScalar("select count(*) from t_repl where v = 'hello-standby'"))
                        .isEqualTo("1"));
    }

    @Test
    void standbyRejectsWrites() {
        assertThatThrownBy(() -> cluster.standby(0).execute("create table t_nope(i int)"))
                .hasMessageContaining("read-only transaction");
    }

    @Test
    void freezeMakesQueryTimeOutAndThawLetsItFinish() throws Exception {
        PgInstance pg = cluster.primary();
        Properties props = new Properties();
        props.setProperty("socketTimeout", "2");
        try (Connection c = pg.connect("postgres", props); Statement st = c.createStatement()) {
            assertThat(st.executeQuery("select 1").next()).isTrue();
            pg.freeze();
            try {
                assertThat(pg.isFrozen()).isTrue();
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> st.executeQuery("select 2")).isInstanceOf(SQLException.class)
                        .hasRootCauseInstanceOf(java.net.SocketTimeoutException.class);
                System.out.printf("query on frozen server failed after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            } finally {
                pg.thaw();
            }
        }
        // A fresh connection works again once thawed.
        assertThat(pg.queryScalar("select 3")).isEqualTo("3");
    }

    @Test
    void queryStartedWhileFrozenFinishesAfterThaw() throws Exception {
        PgInstance pg = cluster.primary();
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            assertThat(st.executeQuery("select 1").next()).isTrue();
            pg.freeze();
            var pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (var rs = st.executeQuery("select 42")) {
                    rs.next();
                    return rs.getInt(1);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                Thread.sleep(500);
                assertThat(pending).isNotDone();
            } finally {
                pg.thaw();
            }
            assertThat(pending.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(42);
        }
    }

    @Test
    void stopAndStartKeepDataAndStandbyReconnects() {
        PgInstance standby = cluster.standby(0);
        standby.stop();
        assertThat(standby.isRunning()).isFalse();
        assertThatThrownBy(() -> standby.queryScalar("select 1")).hasMessageContaining("Connection");
        cluster.primary().execute("create table if not exists t_stop(i int)");
        cluster.primary().execute("insert into t_stop values (1)");
        standby.start();
        cluster.awaitStreaming(Duration.ofSeconds(60));
        await().ignoreExceptions().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(standby.queryScalar("select count(*) from t_stop")).isNotEqualTo("0"));
    }

    @Test
    void kill9OfPrimaryKillsEveryProcessAndStartRecovers() {
        PgInstance primary = cluster.primary();
        primary.execute("create table if not exists t_kill(i int)");
        primary.execute("insert into t_kill values (1)");
        long pid = primary.pid();
        var children = ProcessHandle.of(pid).orElseThrow().descendants().toList();
        assertThat(children).isNotEmpty();

        primary.kill9();

        assertThat(primary.isRunning()).isFalse();
        assertThat(children).noneMatch(ProcessHandle::isAlive);
        primary.start();
        assertThat(primary.queryScalar("select count(*) from t_kill")).isNotEqualTo("0");
        cluster.awaitStreaming(Duration.ofSeconds(60));
    }

    @Test
    void addedStandbyIsCopiedOnlineAndStreams() {
        cluster.primary().execute("create table if not exists t_added(i int)");
        cluster.primary().execute("insert into t_added values (5)");
        PgInstance added = cluster.addStandby();
        try {
            assertThat(added.isInRecovery()).isTrue();
            assertThat(added.queryScalar("select count(*) from t_added")).isNotEqualTo("0");
            cluster.primary().execute("insert into t_added values (6)");
            await().ignoreExceptions().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(added.queryScalar("select count(*) from t_added where i = 6")).isEqualTo("1"));
        } finally {
            added.stop();
        }
    }

    @Test
    void binDirHoldsServerProgramsAndFileFdw() {
        assertThat(PgCluster.binDir().resolve("postgres")).isExecutable();
        assertThat(PgCluster.binDir().resolve("pg_ctl")).isExecutable();
        assertThat(Files.exists(PostgresBinaries.libDir().resolve("postgresql/file_fdw.so"))
                || Files.exists(PostgresBinaries.libDir().resolve("file_fdw.so"))).isTrue();
    }
}
