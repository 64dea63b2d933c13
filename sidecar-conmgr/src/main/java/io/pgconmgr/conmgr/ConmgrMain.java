package io.pgconmgr.conmgr;

import io.pgconmgr.conmgr.ops.DataDirectory;
import io.pgconmgr.conmgr.ops.Logging;
import io.pgconmgr.conmgr.ops.PgLevel;
import io.pgconmgr.protocol.conf.ConfException;
import io.pgconmgr.protocol.conf.ConfProblem;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConfParser;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code bin/conmgr -D DIR [-W]}: runs conmgr in the foreground with DIR/conmgr.conf until SIGTERM
 * or SIGINT, then stops cleanly (goodbye to every watchdog). Exit status: 0 after a clean stop,
 * 1 when it could not start (bad conf, port in use, run as root), 2 for bad usage.
 */
public final class ConmgrMain {

  static final String USAGE = """
      Usage: conmgr [-D DIR] [-W]
        -D DIR   directory holding conmgr.conf (default: $CMDATA)
        -W       report ready at once (HTTP /ready, conmgr.pid), without waiting for a primary
        --help   show this help
      Environment: CMDATA (default for -D), CONMGR_IO_THREADS (event-loop threads, 1-64; default one per
      four processors), CONMGR_JAVA_OPTS (JVM options, bin/conmgr)
      """;

  /** Environment variable overriding the number of I/O threads ({@link Conmgr.Options#defaultIoThreads}). */
  static final String IO_THREADS_ENV = "CONMGR_IO_THREADS";
  static final int MAX_IO_THREADS = 64;

  private ConmgrMain() {
  }

  public static void main(String[] args) {
    System.exit(run(args, System.getenv("CMDATA"), System.getenv(IO_THREADS_ENV), System.err));
  }

  /** Everything main does up to the running state; returns the exit status. Blocks while conmgr runs. */
  static int run(String[] args, String cmdata, String ioThreadsEnv, PrintStream err) {
    Path dir = cmdata == null || cmdata.isEmpty() ? null : Path.of(cmdata);
    boolean noWait = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "-D" -> {
          if (i + 1 >= args.length) {
            err.print("conmgr: option -D needs a directory\n" + USAGE);
            return 2;
          }
          dir = Path.of(args[++i]);
        }
        case "-W" -> noWait = true;
        case "--help", "-h", "-?" -> {
          err.print(USAGE);
          return 0;
        }
        default -> {
          err.print("conmgr: unknown argument \"" + args[i] + "\"\n" + USAGE);
          return 2;
        }
      }
    }
    int ioThreads = Conmgr.Options.defaultIoThreads();
    if (ioThreadsEnv != null && !ioThreadsEnv.isBlank()) {
      try {
        ioThreads = Integer.parseInt(ioThreadsEnv.trim());
      } catch (NumberFormatException e) {
        ioThreads = 0;
      }
      if (ioThreads < 1 || ioThreads > MAX_IO_THREADS) {
        err.println("conmgr: " + IO_THREADS_ENV + " must be a whole number from 1 to " + MAX_IO_THREADS + ", got \""
            + ioThreadsEnv + "\"");
        return 2;
      }
    }
    if (dir == null) {
      err.print("conmgr: no directory given: use -D DIR or set CMDATA\n" + USAGE);
      return 2;
    }
    if (RootCheck.isRoot()) {
      err.println(RootCheck.MESSAGE);
      return 1;
    }
    if (!Files.isDirectory(dir)) {
      err.println("conmgr: directory \"" + dir + "\" does not exist");
      return 1;
    }
    ConmgrConfParser.ParsedConf parsed;
    try {
      parsed = ConmgrConfParser.load(dir.resolve(DataDirectory.CONF));
    } catch (ConfException e) {
      for (ConfProblem p : e.errors()) {
        err.println(p);
      }
      err.println("conmgr: " + dir.resolve(DataDirectory.CONF) + " has " + e.errors().size()
          + (e.errors().size() == 1 ? " error" : " errors") + "; not started");
      return 1;
    } catch (IOException e) {
      err.println("conmgr: could not read " + dir.resolve(DataDirectory.CONF) + ": " + e.getMessage());
      return 1;
    }
    ConmgrConf conf = parsed.conf();
    Logging.configure(conf);
    Logger log = LoggerFactory.getLogger(ConmgrMain.class);
    for (ConfProblem w : parsed.warnings()) {
      log.warn("{}", w);
    }
    // In Kubernetes DIR is a read-only ConfigMap mount: run without conmgr.pid/conmgr.status there
    // (the probes use HTTP; cm_ctl is for hosts).
    DataDirectory files = null;
    if (Files.isWritable(dir)) {
      files = new DataDirectory(dir);
    } else {
      log.info(PgLevel.LOG, "{} is read-only: no {} or {} (cm_ctl cannot manage this conmgr; use HTTP /status)",
          dir, DataDirectory.PID, DataDirectory.STATUS);
    }
    Conmgr conmgr;
    try {
      conmgr = Conmgr.start(conf, new Conmgr.Options(files, noWait, true, ioThreads));
    } catch (IOException | RuntimeException e) {
      log.error(PgLevel.FATAL, "could not start: {}", e.getMessage());
      err.println("conmgr: could not start: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      conmgr.close();
      stopped.countDown();
    }, "conmgr-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** The seed lets only a non-administrator run conmgr. */
  static final class RootCheck {
    static final String MESSAGE = "conmgr: refusing to run as root.\n"
        + "conmgr must run as an unprivileged user (for example the application's user): a process that holds "
        + "client connections and talks to the network needs no administrator rights.\n"
        + "Start it with, e.g.: runuser -u <user> -- cm_ctl start -D DIR";

    static boolean isRoot() {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
          if (line.startsWith("Uid:")) {
            List<String> ids = List.of(line.substring(4).trim().split("\\s+"));
            return ids.get(1).equals("0"); // effective uid
          }
        }
      } catch (IOException | RuntimeException e) {
        // not Linux: fall back to the user name
      }
      return "root".equals(System.getProperty("user.name"));
    }
  }
}
