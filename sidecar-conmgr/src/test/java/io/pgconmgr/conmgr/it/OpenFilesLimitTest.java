package io.pgconmgr.conmgr.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.conmgr.TestConf;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConfRenderer;
import io.pgconmgr.testkit.Cmd;
import io.pgconmgr.testkit.PgCluster;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * bin/conmgr as a real process under a low open-files limit, with real PostgreSQL: clients beyond
 * what the limit holds are closed right after accept (not left in the kernel's accept queue), the
 * served ones keep working, and the refusals are logged and counted.
 */
class OpenFilesLimitTest {

  /** Soft below hard: the launcher starts Java with the soft limit raised to the hard one. */
  static final int SOFT = 128;
  static final int HARD = 256;
  static final int EXTRA = 10;

  private final List<AutoCloseable> closing = new ArrayList<>();
  private Path dir;

  @AfterEach
  void cleanUp() throws Exception {
    if (dir != null) {
      ConmgrCli.run("cm_ctl", "stop", "-D", dir.toString());
      ConmgrCli.killLeftover(dir);
    }
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  @Test
  void clientsBeyondTheOpenFilesLimitAreRefusedAtAcceptAndTheServedOnesKeepWorking() throws Exception {
    WatchdogProcess.assumeAvailable();
    PgCluster cluster = PgCluster.builder().namePrefix("nofile").start();
    closing.add(cluster);
    Path wdDir = Files.createTempDirectory("conmgr-wd-");
    List<WatchdogProcess> watchdogs = Stack.startWatchdogs(cluster, wdDir);
    watchdogs.forEach(w -> closing.add(0, w));
    ConmgrConf b = TestConf.conf(Stack.instances(cluster, watchdogs), List.of(), 2000, 0);
    int httpPort = TestConf.freePort();
    ConmgrConf conf = new ConmgrConf(b.port(), b.targetSessionAttrs(), b.listeners(), b.listenAddresses(),
        b.instances(), 1, 3, 1, 2, Set.of(ConmgrConf.LogDestination.STDERR), ConmgrConf.SyslogFacility.LOCAL0,
        "conmgr", ConmgrConf.LogLevel.WARNING, 1000, httpPort, 2000);
    dir = ConmgrCli.newDir();
    ConmgrCli.writeConf(dir, ConmgrConfRenderer.render(conf));

    Cmd.Result start = ConmgrCli.runWithOpenFiles(SOFT, HARD, "cm_ctl", "start", "-D", dir.toString());
    assertThat(start.exitCode()).as(ConmgrCli.describe(start)).isZero();
    String log = Files.readString(dir.resolve("conmgr.log"));
    Matcher room = Pattern.compile("open-files limit (\\d+): room for (\\d+) client connections").matcher(log);
    assertThat(room.find()).as(log).isTrue();
    assertThat(Long.parseLong(room.group(1))).as("soft limit raised to the hard one").isEqualTo(HARD);
    int capacity = Integer.parseInt(room.group(2));
    System.out.println("conmgr under ulimit -n " + SOFT + ":" + HARD + ": " + room.group());
    assertThat(capacity).isBetween(10, HARD / 2);
    assertThat(log).contains("WARNING:  max_connections = 1000 allows more client connections than the "
        + "open-files limit (" + HARD + ") can hold");

    String url = "jdbc:postgresql://127.0.0.1:" + conf.port() + "/postgres?user=postgres&connectTimeout=20";
    List<Connection> served = new ArrayList<>();
    try {
      for (int i = 0; i < capacity; i++) {
        served.add(DriverManager.getConnection(url));
      }
      selectOneOnEach(served);
      assertThat(refusedCount(httpPort)).as("healthy: nothing refused while under the limit").isZero();

      // Beyond the limit: each extra client is closed at once, before it even sends its startup packet.
      long t0 = System.nanoTime();
      for (int i = 0; i < EXTRA; i++) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", conf.port()), 5000);
          s.setSoTimeout(10_000);
          assertThat(readEnd(s.getInputStream())).as("extra client %d closed by conmgr, not left waiting", i).isTrue();
        }
      }
      System.out.printf("%d clients beyond the limit closed in %d ms%n", EXTRA, (System.nanoTime() - t0) / 1_000_000);
      Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(refusedCount(httpPort)).isEqualTo(EXTRA));
      assertThat(Files.readString(dir.resolve("conmgr.log"))).contains("refused: open-files limit reached (ulimit -n "
          + HARD + " holds " + capacity + " client connections)");
      selectOneOnEach(served);

      // A slot freed is served again.
      served.remove(0).close();
      Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> served.add(DriverManager.getConnection(url)));
      selectOneOnEach(served);
    } finally {
      for (Connection c : served) {
        c.close();
      }
    }
  }

  private static void selectOneOnEach(List<Connection> connections) throws SQLException {
    for (Connection c : connections) {
      try (Statement st = c.createStatement()) {
        assertThat(st.execute("select 1")).isTrue();
      }
    }
  }

  /** True when the peer closed the connection (end of stream or reset); false when it stayed silent. */
  private static boolean readEnd(InputStream in) throws IOException {
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  private static double refusedCount(int httpPort) throws Exception {
    String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = Pattern.compile("conmgr_clients_refused_total\\{reason=\"open_files\",?\\} (\\S+)").matcher(body);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN; // NaN: the series is missing, though it starts at 0
  }
}
