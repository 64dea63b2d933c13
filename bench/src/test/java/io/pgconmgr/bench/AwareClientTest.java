package io.pgconmgr.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The reference aware client against a scripted conmgr endpoint (conmgr's own side is tested for
 * real in sidecar-conmgr's FailoverTest) and a real PostgreSQL: a failure notice that arrives while
 * PgJDBC is still connecting to a host that does not answer gives that connect up at once, and the
 * client asks again; a notice after the connect aborts the connection.
 */
class AwareClientTest {

    private final List<AutoCloseable> closing = new CopyOnWriteArrayList<>(); // filled from the test and the scripted conmgr thread

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    /** conmgr's side of one ask: the channel after the InstanceAddress was sent. */
    record Channel(Socket socket) {
        void notice(int instance, String reason) throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(body);
            d.writeByte('F');
            d.writeInt(instance);
            d.write(reason.getBytes(StandardCharsets.UTF_8));
            d.write(0);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeByte('M');
            out.writeInt(body.size() + 4);
            body.writeTo(out);
            out.flush();
        }
    }

    /** Answers each ask with the next address of {@code answers}, and hands the channel to the test. */
    private BlockingQueue<Channel> scriptedConmgr(ServerSocket server, List<InetSocketAddress> answers) {
        BlockingQueue<Channel> channels = new LinkedBlockingQueue<>();
        Thread t = new Thread(() -> {
            for (int i = 0; i < answers.size(); i++) {
                try {
                    Socket s = server.accept();
                    closing.add(s);
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    in.readNBytes(in.readInt() - 4); // the StartupMessage
                    s.getOutputStream().write(instanceAddress(answers.get(i), i));
                    channels.add(new Channel(s));
                } catch (IOException e) {
                    return;
                }
            }
        }, "scripted-conmgr");
        t.setDaemon(true);
        t.start();
        return channels;
    }

    private static byte[] instanceAddress(InetSocketAddress a, int instance) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(body);
        d.writeByte('A');
        d.writeShort(1);
        d.write(a.getHostString().getBytes(StandardCharsets.UTF_8));
        d.write(0);
        d.writeInt(a.getPort());
        d.writeInt(instance);
        d.write("primary".getBytes(StandardCharsets.UTF_8));
        d.write(0);
        ByteArrayOutputStream msg = new ByteArrayOutputStream();
        DataOutputStream m = new DataOutputStream(msg);
        m.writeByte('M');
        m.writeInt(body.size() + 4);
        body.writeTo(msg);
        return msg.toByteArray();
    }

    /** A listener whose accept queue is full: the kernel drops further SYNs, so a connect to it hangs. */
    private InetSocketAddress blackHole() throws IOException {
        ServerSocket full = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        closing.add(full);
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", full.getLocalPort());
        for (int i = 0; i < 4; i++) {
            Socket s = new Socket();
            closing.add(s);
            try {
                s.connect(address, 300);
            } catch (IOException e) {
                break; // the queue is full
            }
        }
        return address;
    }

    @Test
    void aNoticeWhileConnectingGivesTheConnectUpAndTheClientAsksAgainThenANoticeAbortsTheConnection() throws Exception {
        PgCluster cluster = PgCluster.builder().namePrefix("bench-aware").start();
        closing.add(cluster);
        PgInstance pg = cluster.primary();
        InetSocketAddress dead = blackHole();
        ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        closing.add(server);
        BlockingQueue<Channel> channels = scriptedConmgr(server, List.of(dead, new InetSocketAddress(pg.host(), pg.port())));
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        props.setProperty("connectTimeout", "30"); // without the watch, the connect would wait this out

        Thread notifier = new Thread(() -> {
            try {
                Channel first = channels.take();
                Thread.sleep(500); // PgJDBC is in connect() to the black hole by now
                first.notice(0, "instance is a primary on an older timeline (split brain)");
            } catch (InterruptedException | IOException e) {
                Thread.currentThread().interrupt();
            }
        });
        notifier.start();
        long t0 = System.nanoTime();
        try (AwareClient client = AwareClient.connect("127.0.0.1", server.getLocalPort(), "read-write", "postgres", props)) {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("aware client: connected to %s %d ms after the first ask (notice at ~500 ms, connectTimeout 30 s)%n",
                    client.instanceAddress(), ms);
            assertThat(client.instanceAddress()).isEqualTo(pg.host() + ":" + pg.port());
            assertThat(ms).as("gave the connect up on the notice, not at connectTimeout").isLessThan(20_000);
            try (Statement st = client.connection().createStatement()) {
                assertThat(st.execute("select 1")).as("healthy on the second instance").isTrue();
            }

            Channel second = channels.poll(10, TimeUnit.SECONDS);
            assertThat(second).isNotNull();
            try (Statement st = client.connection().createStatement()) {
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(500);
                        second.notice(1, "nothing received for 3001 ms (heartbeat timeout 3000 ms)");
                    } catch (InterruptedException | IOException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                t.start();
                assertThatThrownBy(() -> st.execute("select pg_sleep(60)")).isInstanceOf(SQLException.class);
            }
            assertThat(client.notice()).isEqualTo(
                    "failure notice for instance 1: nothing received for 3001 ms (heartbeat timeout 3000 ms)");
        }
        notifier.join();
    }
}
