package io.pgconmgr.conmgr.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.pgconmgr.conmgr.Psql;
import io.pgconmgr.conmgr.TestConf;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConfRenderer;
import io.pgconmgr.testkit.Cmd;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.ServerUser;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** bin/cm_ctl and bin/conmgr as real processes: start/status/stop, -W, bad conf files, root refusal. */
class CmCtlTest {

  private final List<Path> dirs = new ArrayList<>();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    dirs.forEach(ConmgrCli::killLeftover);
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  private Path dir() throws IOException {
    Path d = ConmgrCli.newDir();
    dirs.add(d);
    return d;
  }

  static ConmgrConf conf(List<io.pgconmgr.protocol.conf.BackendInstance> instances) {
    ConmgrConf b = TestConf.conf(instances, List.of(), 2000, 0);
    return new ConmgrConf(b.port(), b.targetSessionAttrs(), b.listeners(), b.listenAddresses(), b.instances(), 1, 3, 1,
        2, Set.of(ConmgrConf.LogDestination.STDERR), ConmgrConf.SyslogFacility.LOCAL0, "conmgr",
        ConmgrConf.LogLevel.LOG, 0, 0, 2000);
  }

  static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void startWaitsForThePrimaryStatusShowsRolesStopSaysGoodbye() throws Exception {
    WatchdogProcess.assumeAvailable();
    PgCluster cluster = PgCluster.builder().standbys(1).namePrefix("cmctl").start();
    closing.add(cluster);
    Path wdDir = Files.createTempDirectory("conmgr-wd-");
    List<WatchdogProcess> watchdogs = Stack.startWatchdogs(cluster, wdDir);
    watchdogs.forEach(w -> closing.add(0, w));
    ConmgrConf conf = conf(Stack.instances(cluster, watchdogs));
    Path dir = dir();
    ConmgrCli.writeConf(dir, ConmgrConfRenderer.render(conf));

    assertThat(ConmgrCli.run("cm_ctl", "status", "-D", dir.toString()).exitCode()).as("not running yet").isEqualTo(3);
    long t0 = System.nanoTime();
    Cmd.Result start = ConmgrCli.run("cm_ctl", "start", "-D", dir.toString());
    System.out.printf("cm_ctl start returned after %d ms: %s%n", (System.nanoTime() - t0) / 1_000_000,
        ConmgrCli.describe(start));
    assertThat(start.exitCode()).as(start.output()).isZero();
    assertThat(start.output()).contains("primary connected");

    Cmd.Result status = ConmgrCli.run("cm_ctl", "status", "-D", dir.toString());
    System.out.println("cm_ctl status " + ConmgrCli.describe(status));
    assertThat(status.exitCode()).isZero();
    assertThat(status.output()).contains("running", conf.port() + "=read-write")
        .containsPattern("0 +127\\.0\\.0\\.1:" + cluster.primary().port() + " +primary +up")
        .containsPattern("1 +127\\.0\\.0\\.1:" + cluster.standby(0).port() + " +standby +up");
    if (Psql.available()) {
      assertThat(Psql.query("host=127.0.0.1 port=" + conf.port() + " user=postgres dbname=postgres",
          "select pg_is_in_recovery()")).isEqualTo("f");
    }

    assertThat(ConmgrCli.run("cm_ctl", "start", "-D", dir.toString()).output()).as("one conmgr per directory")
        .contains("already running");

    Cmd.Result stop = ConmgrCli.run("cm_ctl", "stop", "-D", dir.toString());
    assertThat(stop.exitCode()).as(stop.output()).isZero();
    assertThat(ConmgrCli.run("cm_ctl", "status", "-D", dir.toString()).exitCode()).isEqualTo(3);
    assertThat(listening(conf.port())).isFalse();
    for (WatchdogProcess w : watchdogs) {
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(w.log()).contains("said goodbye"));
    }
    assertThat(Files.readString(dir.resolve("conmgr.log"))).contains("LOG:  conmgr is ready", "LOG:  conmgr stopping");
  }

  @Test
  void startWithDashWReturnsAtOnceWithoutAnyWatchdog() throws Exception {
    Path dir = dir();
    ConmgrConf conf = conf(List.of(TestConf.instance(0, TestConf.freePort(), TestConf.freePort())));
    ConmgrCli.writeConf(dir, ConmgrConfRenderer.render(conf));
    long t0 = System.nanoTime();
    Cmd.Result start = ConmgrCli.run("cm_ctl", "start", "-D", dir.toString(), "-W");
    System.out.printf("cm_ctl start -W returned after %d ms: %s%n", (System.nanoTime() - t0) / 1_000_000,
        ConmgrCli.describe(start));
    assertThat(start.exitCode()).as(start.output()).isZero();
    assertThat(start.output()).contains("not waiting for the primary (-W)");
    assertThat(listening(conf.port())).as("-W returns once the listeners are bound").isTrue();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> ConmgrCli.run("cm_ctl", "status", "-D", dir.toString()).exitCode() == 0);
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(ConmgrCli.run("cm_ctl", "status", "-D", dir.toString()).output()).contains("connecting"));
    assertThat(ConmgrCli.run("cm_ctl", "stop", "-D", dir.toString()).exitCode()).isZero();
  }

  @Test
  void statusOnAMissingDirectorySaysNotRunningWithExitThreeWhileStartAndStopFail() throws Exception {
    Path dir = dir();
    ConmgrCli.writeConf(dir, "port = " + TestConf.freePort() + "\n");
    assertThat(ConmgrCli.run("cm_ctl", "status", "-D", dir.toString()).exitCode()).as("existing dir, not running")
        .isEqualTo(3);
    Path missing = dir.resolve("no-such-dir");
    Cmd.Result status = ConmgrCli.run("cm_ctl", "status", "-D", missing.toString());
    System.out.println("status on a missing dir: " + ConmgrCli.describe(status));
    assertThat(status.exitCode()).as("documented: 3 = not running").isEqualTo(3);
    assertThat(status.output()).contains("no conmgr running in " + missing, "does not exist");
    Cmd.Result stop = ConmgrCli.run("cm_ctl", "stop", "-D", missing.toString());
    assertThat(stop.exitCode()).as("stop has nothing to stop there: an error").isEqualTo(1);
    assertThat(stop.output()).contains("does not exist");
  }

  @Test
  void badConfPrintsEveryErrorWithFileAndLineAndStartsNothing() throws Exception {
    Path dir = dir();
    int port = TestConf.freePort();
    ConmgrCli.writeConf(dir, "port = " + port + "\nbackend_port0 = 5432\nheartbeat_interval = 0\nlog_min_messages = chatty\n");
    Cmd.Result r = ConmgrCli.run("conmgr", "-D", dir.toString());
    System.out.println("bad conf: " + ConmgrCli.describe(r));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.output()).contains("conmgr.conf:2:", "conmgr.conf:3:", "conmgr.conf:4:", "not started");
    assertThat(listening(port)).isFalse();
    assertThat(dir.resolve("conmgr.pid")).doesNotExist();

    Cmd.Result viaCtl = ConmgrCli.run("cm_ctl", "start", "-D", dir.toString());
    assertThat(viaCtl.exitCode()).isEqualTo(1);
    assertThat(viaCtl.output()).contains("did not start", "conmgr.conf:3:");
    Cmd.Result noWait = ConmgrCli.run("cm_ctl", "start", "-D", dir.toString(), "-W");
    assertThat(noWait.exitCode()).as("-W does not hide a bad conmgr.conf").isEqualTo(1);
    assertThat(noWait.output()).contains("did not start", "conmgr.conf:3:");
    assertThat(noWait.output().split("conmgr.conf:3:", -1)).as("only this start's log lines").hasSize(2);
  }

  @Test
  void runningAsRootIsRefused() throws Exception {
    assumeThat(ServerUser.switchesUser()).as("needs root: checks that conmgr refuses to run as root").isTrue();
    Path dir = dir();
    int port = TestConf.freePort();
    ConmgrCli.writeConf(dir, ConmgrConfRenderer.render(conf(List.of(TestConf.instance(0, 5432, 27545)))));
    Cmd.Result r = ConmgrCli.runAsMe("conmgr", "-D", dir.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.output()).contains("refusing to run as root");
    Cmd.Result ctl = ConmgrCli.runAsMe("cm_ctl", "start", "-D", dir.toString());
    assertThat(ctl.exitCode()).isEqualTo(1);
    assertThat(ctl.output()).contains("refusing to start conmgr as root");
    assertThat(listening(port)).isFalse();
  }

  @Test
  void aReadOnlyDirectoryLikeAConfigMapMountRunsWithoutPidAndStatusFiles() throws Exception {
    Path dir = Files.createTempDirectory("conmgr-ro-");
    dirs.add(dir);
    ConmgrConf conf = conf(List.of(TestConf.instance(0, TestConf.freePort(), TestConf.freePort())));
    Files.writeString(dir.resolve("conmgr.conf"), ConmgrConfRenderer.render(conf));
    Cmd.run(List.of("chmod", "644", dir.resolve("conmgr.conf").toString()));
    Cmd.run(List.of("chmod", "555", dir.toString()));
    Cmd.Result r = ConmgrCli.runFor(8, "conmgr", "-D", dir.toString());
    Cmd.run(List.of("chmod", "755", dir.toString())); // so that clean-up can delete it
    System.out.println("read-only dir: " + ConmgrCli.describe(r));
    assertThat(r.output()).contains("is read-only: no conmgr.pid", "conmgr listening on", "conmgr stopping");
    assertThat(dir.resolve("conmgr.pid")).doesNotExist();
  }
}
