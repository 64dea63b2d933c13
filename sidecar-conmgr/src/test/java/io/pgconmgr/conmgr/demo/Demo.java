package io.pgconmgr.conmgr.demo;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.pgconmgr.conmgr.it.Stack;
import io.pgconmgr.conmgr.it.WatchdogProcess;
import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConfRenderer;
import io.pgconmgr.protocol.conf.Listener;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.testkit.Cmd;
import io.pgconmgr.testkit.NetNamespace;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import io.pgconmgr.testkit.ServerUser;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * README's run command (bin/demo): a primary and a standby, a watchdog process for each, one
 * conmgr started with bin/cm_ctl; then routing by role, a promotion followed by conmgr, a hung
 * host (SIGSTOP of an instance and its watchdog) failing an in-flight query within the heartbeat
 * timeout, and, as root, a silent network cut of a test host in a network namespace (the standby
 * runs there) whose orphaned backend the watchdog terminates. Everything it starts is stopped on
 * exit and on Ctrl-C.
 */
public final class Demo {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
  private static final int INTERVAL_S = 1;
  private static final int TIMEOUT_S = 3;

  private final Path work;
  private final Path repo;
  private PgCluster cluster;
  private NetNamespace ns;
  private final List<WatchdogProcess> watchdogs = new ArrayList<>();
  private Path conmgrDir;
  private Path bin;
  private volatile boolean stopping;
  /** Set on Ctrl-C: steps still running in main must not print results of a torn-down stack. */
  private static volatile boolean quiet;

  private Demo(Path repo) throws IOException {
    this.repo = repo;
    this.work = Files.createTempDirectory("pgconmgr-demo-");
  }

  public static void main(String[] args) throws Exception {
    quietLogs();
    Path repo = Path.of(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
    Demo demo = new Demo(repo);
    Thread cleanup = new Thread(demo::cleanUp, "demo-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    int status = 0;
    try {
      demo.run();
      say("demo finished: every step behaved as expected");
    } catch (Exception | AssertionError e) {
      if (demo.stopping) {
        return; // Ctrl-C: the shutdown hook is cleaning up
      }
      say("demo FAILED: " + e);
      status = 1;
    }
    System.exit(status); // the shutdown hook cleans up
  }

  static void say(String text) {
    show(LocalTime.now().format(TIME) + "  " + text + "\n");
  }

  private static void show(String text) {
    if (!quiet) {
      System.out.print(text);
    }
  }

  static void check(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError(what);
    }
  }

  private void run() throws Exception {
    say("starting PostgreSQL 17: a primary and a streaming standby (test kit)"
        + (ServerUser.switchesUser() ? ", as user " + ServerUser.NAME + " since we are root" : ""));
    String noNetns = NetNamespace.unavailableReason();
    PgCluster.Builder builder = PgCluster.builder().standbys(1).namePrefix("demo");
    if (noNetns == null) {
      ns = NetNamespace.create();
      builder.standbyIn(0, ns);
    }
    cluster = builder.start();
    PgInstance primary = cluster.primary();
    PgInstance standby = cluster.standby(0);
    say("  instance 0: " + primary.host() + ":" + primary.port() + "  instance 1: " + standby.host() + ":" + standby.port()
        + (ns == null ? "" : " (a test host: network namespace " + ns.name() + ")"));
    if (noNetns != null) {
      say("  NETWORK CUT step skipped (" + noNetns + "); the SIGSTOP step below shows a silent failure without it");
    }

    say("starting a watchdog process beside each instance (check_attr_interval " + Stack.CHECK_ATTR_INTERVAL_MS + " ms)");
    watchdogs.addAll(Stack.startWatchdogs(cluster, work.resolve("watchdogs")));
    for (int i = 0; i < watchdogs.size(); i++) {
      say("  watchdog " + i + ": port " + watchdogs.get(i).port() + ", pid " + watchdogs.get(i).pid());
    }

    int rwPort = freePort();
    int roPort = freePort();
    ConmgrConf conf = new ConmgrConf(rwPort, TargetSessionAttrs.READ_WRITE,
        List.of(new Listener(roPort, TargetSessionAttrs.READ_ONLY)), "127.0.0.1",
        Stack.instances(cluster, watchdogs), INTERVAL_S, TIMEOUT_S, 1, 2, Set.of(ConmgrConf.LogDestination.STDERR),
        ConmgrConf.SyslogFacility.LOCAL0, "conmgr", ConmgrConf.LogLevel.LOG, 0, freePort(), 5000);
    prepareConmgr(conf);
    say("cm_ctl start -D " + conmgrDir + "   (heartbeat_interval " + INTERVAL_S + " s, heartbeat_timeout " + TIMEOUT_S
        + " s; listeners " + rwPort + "=read-write, " + roPort + "=read-only)");
    Cmd.Result start = cmCtl("start");
    show(indent(start.output()));
    check(start.ok(), "cm_ctl start failed");
    say("cm_ctl status");
    show(indent(cmCtl("status").output()));

    String rw = "jdbc:postgresql://127.0.0.1:" + rwPort + "/postgres?user=postgres&connectTimeout=20";
    String ro = "jdbc:postgresql://127.0.0.1:" + roPort + "/postgres?user=postgres&connectTimeout=20";
    say("read-write connection through conmgr (port " + rwPort + ")");
    try (Connection c = DriverManager.getConnection(rw); Statement st = c.createStatement()) {
      String where = where(st);
      say("  -> " + where);
      check(where.contains("port " + primary.port()) && where.contains("primary"), "read-write must reach the primary");
      st.execute("create table if not exists demo(t timestamptz default now(), note text)");
      st.execute("insert into demo(note) values ('written through conmgr')");
    }
    say("read-only connection through conmgr (port " + roPort + ")");
    try (Connection c = DriverManager.getConnection(ro); Statement st = c.createStatement()) {
      String where = where(st);
      say("  -> " + where);
      check(where.contains("port " + standby.port()) && where.contains("standby"), "read-only must reach the standby");
    }

    say("PROMOTION: pg_ctl promote on the standby (the old primary keeps running: a split brain conmgr must not fall for)");
    long t0 = System.nanoTime();
    standby.promote();
    int reached = -1;
    int cut = 0;
    String lastCut = null;
    do {
      try (Connection c = DriverManager.getConnection(rw); Statement st = c.createStatement();
           ResultSet r = st.executeQuery("select current_setting('port')::int")) {
        r.next();
        reached = r.getInt(1);
      } catch (SQLException e) {
        // A connection bound to the old primary when conmgr withdraws it (the promoted standby reports
        // a newer timeline) is closed, even mid-startup: the application retries, as here.
        cut++;
        lastCut = e.getMessage();
        Thread.sleep(10);
      }
    } while (reached != standby.port() && System.nanoTime() - t0 < 30_000_000_000L);
    say("  first read-write connection on the new primary " + (System.nanoTime() - t0) / 1_000_000
        + " ms after promote started" + (cut == 0 ? "" : " (" + cut + " attempt(s) cut while conmgr withdrew the "
        + "old primary, retried: " + lastCut + ")"));
    check(reached == standby.port(), "read-write must follow the promotion");
    show(indent(cmCtl("status").output()));
    say("stopping the old primary");
    primary.stop();

    say("SILENT FAILURE: a long query through conmgr on the new primary, then SIGSTOP of that instance and its watchdog");
    Connection c = DriverManager.getConnection(rw);
    Statement st = c.createStatement();
    say("  running: select pg_sleep(60)  (-> " + where(st) + ")");
    CompletableFuture<String> outcome = CompletableFuture.supplyAsync(() -> {
      try (c; st) {
        st.execute("select pg_sleep(60)");
        return "completed (it should not have!)";
      } catch (SQLException e) {
        return "failed: " + e.getSQLState() + " " + e.getMessage();
      }
    });
    Thread.sleep(1000);
    WatchdogProcess wd = watchdogs.get(1);
    long frozenAt = System.nanoTime();
    standby.freeze();
    wd.freeze();
    say("  SIGSTOP sent to PostgreSQL (pid " + standby.pid() + " and children) and its watchdog (pid " + wd.pid() + ")");
    String result = outcome.get(60, TimeUnit.SECONDS);
    long ms = (System.nanoTime() - frozenAt) / 1_000_000;
    say("  in-flight query " + result);
    say("  ... " + ms + " ms after the freeze (heartbeat_timeout " + TIMEOUT_S * 1000 + " ms); without conmgr it would hang"
        + " until TCP gives up, minutes later");
    check(result.startsWith("failed") && ms < (TIMEOUT_S + 3) * 1000L, "the query must fail within the heartbeat timeout");
    show(indent(cmCtl("status").output()));
    say("thawing (SIGCONT)");
    standby.thaw();
    wd.thaw();
    Thread.sleep(2500);
    show(indent(cmCtl("status").output()));
    if (ns != null) {
      networkCut(standby, wd, rw);
    }
    say("cm_ctl stop");
    show(indent(cmCtl("stop").output()));
  }

  /**
   * The failure keepalive handles worst: packets to the host vanish (no RST, no FIN). conmgr's
   * heartbeats fail the client fast; the watchdog on the cut-off host misses them too and
   * terminates the backend nobody will ever read from again.
   */
  private void networkCut(PgInstance pg, WatchdogProcess wd, String rw) throws Exception {
    String sql = "select pg_sleep(61)";
    say("NETWORK CUT: a long query through conmgr on " + pg.host() + ", then that test host's link dropped silently"
        + " (iptables DROP in namespace " + ns.name() + ": no RST, no FIN)");
    Connection c = connectWithRetry(rw, Duration.ofSeconds(20));
    Statement st = c.createStatement();
    String where = where(st);
    int backend;
    try (ResultSet r = st.executeQuery("select pg_backend_pid()")) {
      r.next();
      backend = r.getInt(1);
    }
    check(where.contains("port " + pg.port()), "read-write must reach the new primary on the test host, got " + where);
    say("  running: " + sql + "  (-> " + where + ", backend pid " + backend + ")");
    CompletableFuture<String> outcome = CompletableFuture.supplyAsync(() -> {
      try (c; st) {
        st.execute(sql);
        return "completed (it should not have!)";
      } catch (SQLException e) {
        return "failed: " + e.getSQLState() + " " + e.getMessage();
      }
    });
    Thread.sleep(1000);
    int logMark = wd.log().length();
    long cutAt = System.nanoTime();
    ns.cut();
    say("  link cut");
    String result = outcome.get(60, TimeUnit.SECONDS);
    long ms = (System.nanoTime() - cutAt) / 1_000_000;
    say("  in-flight query " + result);
    say("  ... " + ms + " ms after the cut (heartbeat_timeout " + TIMEOUT_S * 1000 + " ms); TCP alone would keep"
        + " retransmitting for about 15 minutes");
    check(result.startsWith("failed") && ms < (TIMEOUT_S + 3) * 1000L, "the query must fail within the heartbeat timeout");
    show(indent(cmCtl("status").output()));

    ns.restore();
    long restoredAt = System.nanoTime();
    say("link restored; on the test host, is backend " + backend + " (the orphaned " + sql + ") still there?");
    String terminated = null;
    int left = -1;
    while (System.nanoTime() - restoredAt < 20_000_000_000L) {
      terminated = wd.log().substring(logMark).lines().filter(l -> l.contains("terminated backend pid=" + backend))
          .findFirst().orElse(null);
      left = backendsWithPid(pg, backend);
      if (terminated != null && left == 0) {
        break;
      }
      Thread.sleep(200);
    }
    say("  pg_stat_activity on " + pg.host() + ": " + (left == 0 ? "gone" : left < 0 ? "unreachable" : "still running"));
    say("  watchdog " + wd.pid() + " (inside the namespace, missed conmgr's heartbeats too) logged:");
    show(indent(terminated == null ? "(nothing about backend " + backend + ")" : terminated.strip()));
    check(terminated != null && left == 0, "the watchdog must terminate the orphaned backend");
    connectWithRetry(rw, Duration.ofSeconds(20)).close();
    say("  link up again: read-write connections reach " + pg.host() + " again");
  }

  private static Connection connectWithRetry(String url, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        return DriverManager.getConnection(url);
      } catch (SQLException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  private static int backendsWithPid(PgInstance pg, int pid) {
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl() + "&connectTimeout=5");
         ResultSet r = c.createStatement().executeQuery("select count(*) from pg_stat_activity where pid = " + pid)) {
      r.next();
      return r.getInt(1);
    } catch (SQLException e) {
      return -1;
    }
  }

  private static String where(Statement st) throws SQLException {
    try (ResultSet r = st.executeQuery(
        "select current_setting('port'), case when pg_is_in_recovery() then 'standby' else 'primary' end")) {
      r.next();
      return "port " + r.getString(1) + " (" + r.getString(2) + ")";
    }
  }

  /** A conmgr directory and launchers that the unprivileged user can read when we are root. */
  private void prepareConmgr(ConmgrConf conf) throws IOException {
    conmgrDir = work.resolve("conmgr");
    bin = work.resolve("bin");
    Files.createDirectories(conmgrDir);
    Files.createDirectories(bin);
    for (String f : List.of("conmgr", "cm_ctl")) {
      Files.copy(repo.resolve("bin").resolve(f), bin.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
    Files.copy(repo.resolve("sidecar-conmgr/target/conmgr.jar"), bin.resolve("conmgr.jar"),
        StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(conmgrDir.resolve("conmgr.conf"), ConmgrConfRenderer.render(conf));
    Cmd.run(List.of("chmod", "-R", "a+rX", work.toString()));
    ServerUser.own(conmgrDir);
  }

  private Cmd.Result cmCtl(String command) {
    List<String> cmd = ServerUser.wrap(List.of("env", "CONMGR_JAR=" + bin.resolve("conmgr.jar"),
        bin.resolve("cm_ctl").toString(), command, "-D", conmgrDir.toString()));
    return Cmd.exec(cmd, Duration.ofSeconds(90));
  }

  private void cleanUp() {
    stopping = true;
    quiet = true;
    if (conmgrDir != null && Files.exists(conmgrDir.resolve("conmgr.pid"))) {
      cmCtl("stop");
    }
    watchdogs.forEach(WatchdogProcess::close);
    if (cluster != null) {
      cluster.close();
    }
    if (ns != null) {
      ns.close();
    }
    Cmd.exec(List.of("rm", "-rf", work.toString()), Duration.ofSeconds(30));
    System.out.println(LocalTime.now().format(TIME) + "  cleaned up: conmgr stopped, watchdogs and PostgreSQL stopped, "
        + (ns == null ? "" : "namespace " + ns.name() + " removed, ") + work + " removed");
  }

  private static String indent(String s) {
    return s.lines().map(l -> "              " + l + "\n").reduce("", String::concat);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void quietLogs() {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.WARN);
  }
}
