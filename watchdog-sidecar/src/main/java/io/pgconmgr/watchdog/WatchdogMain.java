package io.pgconmgr.watchdog;

import io.pgconmgr.protocol.conf.ConfException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bin/watchdog}: runs the watchdog in the foreground until SIGTERM/SIGINT, validates a
 * settings file, or prints the pgx_stat_watchdog setup and removal SQL.
 */
public final class WatchdogMain {
  static final int EXIT_BAD_SETTINGS = 1;
  static final int EXIT_START_FAILED = 3;
  static final int EXIT_USAGE = 2;

  private static final String USAGE = """
      usage: watchdog -c FILE            run in the foreground with the settings in FILE
             watchdog -c FILE --check    validate FILE, print the settings, exit
             watchdog --print-setup-sql [FILENAME]
                                         SQL creating pgx_stat_watchdog over FILENAME as the
                                         PostgreSQL server sees it (default: %s,
                                         relative to each instance's data directory)
             watchdog --print-removal-sql
                                         SQL removing it again
      See docs/watchdog.md.""".formatted(StatViewSql.DEFAULT_FILENAME);

  private WatchdogMain() {
  }

  public static void main(String[] args) {
    // Our log format for the program, without imposing it on code that embeds a Watchdog.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "watchdog-logback.xml");
    }
    int code = run(args, System.out, System.err);
    if (code >= 0) {
      System.exit(code);
    }
  }

  /** Runs the command; returns the exit code, or -1 once a started watchdog has stopped. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    Path file = null;
    boolean check = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "-c", "--config" -> {
          if (i + 1 >= args.length) {
            err.println("watchdog: -c needs a settings file\n" + USAGE);
            return EXIT_USAGE;
          }
          file = Path.of(args[++i]);
        }
        case "--check" -> check = true;
        case "--print-setup-sql" -> {
          out.print(StatViewSql.setup(i + 1 < args.length ? args[i + 1]
              : StatViewSql.DEFAULT_FILENAME));
          return 0;
        }
        case "--print-removal-sql" -> {
          out.print(StatViewSql.removal());
          return 0;
        }
        case "-h", "--help" -> {
          out.println(USAGE);
          return 0;
        }
        default -> {
          err.println("watchdog: unknown argument \"" + args[i] + "\"\n" + USAGE);
          return EXIT_USAGE;
        }
      }
    }
    if (file == null) {
      err.println("watchdog: no settings file given\n" + USAGE);
      return EXIT_USAGE;
    }
    WatchdogSettings settings;
    try {
      settings = SettingsFile.load(file);
    } catch (ConfException e) {
      err.println("watchdog: invalid settings, nothing started:\n" + e.getMessage());
      return EXIT_BAD_SETTINGS;
    } catch (IOException e) {
      err.println("watchdog: cannot read settings file " + file + ": " + e);
      return EXIT_BAD_SETTINGS;
    }
    if (check) {
      out.println(settings);
      return 0;
    }
    Watchdog watchdog;
    try {
      watchdog = Watchdog.start(settings);
    } catch (IOException | RuntimeException e) {
      err.println("watchdog: cannot start: " + e.getMessage());
      return EXIT_START_FAILED;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      watchdog.close();
      stopped.countDown();
    }, "watchdog-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return -1;
  }
}
