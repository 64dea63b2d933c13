package io.pgconmgr.watchdog;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import io.pgconmgr.testkit.NetNamespace;
import org.awaitility.Awaitility;

/**
 * The watchdog as its own process, started the way bin/watchdog starts it (java, main class,
 * {@code -c FILE}) on the test class path, with free ports written into its settings file.
 */
final class WatchdogProcess implements AutoCloseable {
  final Process process;
  final String host;
  final int port;
  final int httpPort;
  final Path log;

  private WatchdogProcess(Process process, String host, int port, int httpPort, Path log) {
    this.process = process;
    this.host = host;
    this.port = port;
    this.httpPort = httpPort;
    this.log = log;
  }

  /** Starts on 127.0.0.1 with {@code extraSettings} lines added; waits until /live answers. */
  static WatchdogProcess start(Path dir, String conninfo, List<String> jvmOptions,
      String... extraSettings) throws IOException {
    return start(dir, conninfo, jvmOptions, null, extraSettings);
  }

  /**
   * Starts inside {@code ns} (on its host address) when it is not null, as another module's
   * tests put a watchdog on its own test host.
   */
  static WatchdogProcess start(Path dir, String conninfo, List<String> jvmOptions,
      NetNamespace ns, String... extraSettings) throws IOException {
    String host = ns == null ? "127.0.0.1" : ns.hostAddress();
    int port = freePort();
    int httpPort = freePort();
    Path conf = dir.resolve("watchdog.conf");
    List<String> lines = new ArrayList<>(List.of(
        "watchdog.listen_address = '" + host + "'",
        "watchdog.port = " + port,
        "watchdog.http_port = " + httpPort,
        "watchdog.conninfo = '" + conninfo + "'"));
    lines.addAll(List.of(extraSettings));
    Files.write(conf, lines);
    Path log = dir.resolve("watchdog.log");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        WatchdogMain.class.getName(), "-c", conf.toString()));
    Process p = ns != null ? ns.exec(cmd, ProcessBuilder.Redirect.to(log.toFile()))
        : new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    WatchdogProcess wp = new WatchdogProcess(p, host, port, httpPort, log);
    try {
      Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .until(() -> {
            if (!p.isAlive()) {
              throw new IllegalStateException("watchdog exited: " + Files.readString(log));
            }
            try {
              return wp.http("/live").statusCode() == 200;
            } catch (IllegalStateException notYet) {
              return false;
            }
          });
    } catch (RuntimeException e) {
      wp.close();
      throw e;
    }
    return wp;
  }

  InetSocketAddress heartbeatAddress() {
    return new InetSocketAddress(host, port);
  }

  HttpResponse<String> http(String path) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://" + host + ":" + httpPort + path)).timeout(Duration.ofSeconds(5))
          .build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** User plus system CPU time of the process so far. */
  Duration cpu() {
    return process.toHandle().info().totalCpuDuration().orElseThrow();
  }

  /** Resident set size in KiB. */
  long rssKib() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()),
        "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS");
  }

  /** SIGTERM; returns the exit code. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
