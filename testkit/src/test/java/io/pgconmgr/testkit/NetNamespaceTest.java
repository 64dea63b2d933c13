package io.pgconmgr.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Test hosts in network namespaces; skipped with the reason when not root or tools are missing. */
class NetNamespaceTest {

    @BeforeAll
    static void needsRoot() {
        NetNamespace.assumeAvailable();
    }

    @Test
    void cutLinkMakesConnectTimeOutAndRestoreReconnects() throws Exception {
        try (NetNamespace ns = NetNamespace.create()) {
            int port = 15432;
            Process listener = ns.exec(List.of("python3", "-c",
                    "import socket,time\n"
                            + "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                            + "s.bind(('" + ns.hostAddress() + "', " + port + ")); s.listen(50)\n"
                            + "while True:\n  c,_=s.accept(); c.close()\n"), ProcessBuilder.Redirect.DISCARD);
            PgInstance.await("listener in " + ns, Duration.ofSeconds(30), () -> connects(ns.hostAddress(), port));

            ns.cut();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> connect(ns.hostAddress(), port, 1500))
                    .as("a silent cut times out instead of being refused")
                    .isInstanceOf(SocketTimeoutException.class);
            System.out.printf("connect across a cut link timed out after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertThat(ns.isCut()).isTrue();

            ns.restore();
            connect(ns.hostAddress(), port, 5000);
            assertThat(listener.isAlive()).isTrue();
        }
    }

    @Test
    void closedPortInNamespaceIsRefusedNotTimedOut() throws Exception {
        try (NetNamespace ns = NetNamespace.create()) {
            assertThatThrownBy(() -> connect(ns.hostAddress(), 1, 5000)).isInstanceOf(java.net.ConnectException.class);
        }
    }

    @Test
    void namespaceAndVethAreGoneAfterClose() {
        NetNamespace ns = NetNamespace.create();
        Process sleeper = ns.exec(List.of("sleep", "600"));
        assertThat(ns.exists()).isTrue();
        assertThat(ns.name()).startsWith(NetNamespace.PREFIX).hasSizeLessThanOrEqualTo(15);
        assertThat(Cmd.exec(List.of("ip", "link", "show", ns.name() + "r"), Duration.ofSeconds(10)).ok()).isTrue();

        ns.close();

        assertThat(ns.exists()).isFalse();
        assertThat(Cmd.exec(List.of("ip", "link", "show", ns.name() + "r"), Duration.ofSeconds(10)).ok()).isFalse();
        assertThat(Cmd.run(List.of("ip", "netns", "list")).output()).doesNotContain(ns.name() + " ");
        PgInstance.await("sleeper killed", Duration.ofSeconds(10), () -> !sleeper.isAlive());
    }

    @Test
    void concurrentCreatesGetDistinctNamesAndAddresses() {
        List<CompletableFuture<NetNamespace>> futures = IntStream.range(0, 4)
                .mapToObj(i -> CompletableFuture.supplyAsync(NetNamespace::create)).toList();
        List<NetNamespace> all = futures.stream().map(CompletableFuture::join).toList();
        try {
            assertThat(all.stream().map(NetNamespace::name).distinct()).hasSize(4);
            assertThat(all.stream().map(NetNamespace::hostAddress).distinct()).hasSize(4);
            assertThat(all).allSatisfy(ns -> assertThat(ns.hostAddress()).startsWith("198.1"));
        } finally {
            all.forEach(NetNamespace::close);
        }
    }

    @Test
    void postgresInsideNamespaceIsReachableFromRootAndStreamsToRootStandby() {
        try (NetNamespace ns = NetNamespace.create();
             PgCluster cluster = PgCluster.builder().standbys(1).primaryIn(ns).start()) {
            PgInstance primary = cluster.primary();
            assertThat(primary.host()).isEqualTo(ns.hostAddress());
            assertThat(primary.queryScalar("select host(inet_server_addr())")).isEqualTo(ns.hostAddress());
            primary.execute("create table t_ns(i int)");
            primary.execute("insert into t_ns values (7)");
            PgInstance.await("row on standby", Duration.ofSeconds(30),
                    () -> "7".equals(cluster.standby(0).queryScalar("select max(i) from t_ns")));

            ns.cut();
            assertThatThrownBy(() -> connect(ns.hostAddress(), primary.port(), 1500))
                    .isInstanceOf(SocketTimeoutException.class);
            ns.restore();
            assertThat(primary.queryScalar("select 1")).isEqualTo("1");
        }
    }

    private static boolean connects(String host, int port) {
        try {
            connect(host, port, 1000);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static void connect(String host, int port, int timeoutMs) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), timeoutMs);
        }
    }
}
