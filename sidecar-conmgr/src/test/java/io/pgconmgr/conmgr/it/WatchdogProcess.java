package io.pgconmgr.conmgr.it;

import io.pgconmgr.conmgr.TestConf;
import io.pgconmgr.testkit.Cmd;
import io.pgconmgr.testkit.NetNamespace;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real watchdog (bin/watchdog's main class) in its own process beside one PostgreSQL instance,
 * optionally inside a network namespace, so a test can freeze it or cut it off with its instance.
 */
public final class WatchdogProcess implements AutoCloseable {

  static final String MAIN = "io.pgconmgr.watchdog.WatchdogMain";

  private final Process process;
  private final Path log;
  private final String host;
  private final int port;

  private WatchdogProcess(Process process, Path log, String host, int port) {
    this.process = process;
    this.log = log;
    this.host = host;
    this.port = port;
  }

  /** The classpath that holds the watchdog: -Dpgconmgr.watchdog.classpath, else this JVM's. */
  static String classpath() {
    return System.getProperty("pgconmgr.watchdog.classpath", System.getProperty("java.class.path"));
  }

  /** Skips the calling test when the watchdog is not on the class path (it is built by watchdog-sidecar/). */
  public static void assumeAvailable() {
    boolean available = System.getProperty("pgconmgr.watchdog.classpath") != null;
    try {
      Class.forName(MAIN, false, WatchdogProcess.class.getClassLoader());
      available = true;
    } catch (ClassNotFoundException e) {
      // checked below
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(available,
        "needs the watchdog (" + MAIN + ") on the test class path: build watchdog-sidecar/ first");
  }

  /**
   * Starts a watchdog for the PostgreSQL at {@code pgHost:pgPort} and waits until it listens.
   *
   * @param ns where to run it (null: the root namespace, on 127.0.0.1)
   */
  public static WatchdogProcess start(Path dir, String name, String pgHost, int pgPort, int checkIntervalMs,
      NetNamespace ns) throws IOException {
    assumeAvailable();
    Files.createDirectories(dir);
    String listen = ns == null ? "127.0.0.1" : ns.hostAddress();
    int port = TestConf.freePort();
    int httpPort = TestConf.freePort();
    Path conf = dir.resolve(name + ".conf");
    Files.writeString(conf, String.join("\n",
        "watchdog.port = " + port,
        "watchdog.http_port = " + httpPort,
        "watchdog.listen_address = '" + listen + "'",
        "watchdog.check_attr_interval = " + checkIntervalMs,
        "watchdog.check_timeout = 2000",
        "watchdog.conninfo = 'host=" + pgHost + " port=" + pgPort + " user=postgres dbname=postgres connect_timeout=2'",
        ""));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath(), MAIN, "-c", conf.toString()));
    Path log = dir.resolve(name + ".log");
    Process p;
    if (ns == null) {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } else {
      p = ns.exec(cmd, ProcessBuilder.Redirect.to(log.toFile()));
    }
    WatchdogProcess w = new WatchdogProcess(p, log, listen, port);
    w.awaitListening(Duration.ofSeconds(60));
    return w;
  }

  private void awaitListening(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("watchdog exited with " + process.exitValue() + ": " + Files.readString(log));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(host, port), 500);
        return;
      } catch (IOException notYet) {
        sleep(100);
      }
    }
    throw new IOException("watchdog did not listen on " + host + ":" + port + " within " + timeout + ": "
        + Files.readString(log));
  }

  public int port() {
    return port;
  }

  public String host() {
    return host;
  }

  public long pid() {
    return process.pid();
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return e.toString();
    }
  }

  /** SIGSTOP: the process stays, its sockets stay open, nothing answers. */
  public void freeze() {
    Cmd.run(List.of("kill", "-STOP", Long.toString(process.pid())));
  }

  public void thaw() {
    Cmd.run(List.of("kill", "-CONT", Long.toString(process.pid())));
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      Cmd.exec(List.of("kill", "-CONT", Long.toString(process.pid())), Duration.ofSeconds(5));
      process.destroy();
      try {
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
