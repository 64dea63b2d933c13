package io.pgconmgr.conmgr.kernel;

import static org.assertj.core.api.Assumptions.assumeThat;

import io.pgconmgr.testkit.Cmd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real kernel relay agent (bin/kernel-relay-agent, built with gcc on first use) in its own process. */
final class KernelRelayAgent implements AutoCloseable {

  private static final Path LAUNCHER = Path.of("..", "bin", "kernel-relay-agent").toAbsolutePath().normalize();

  private final Process process;
  private final Path log;

  private KernelRelayAgent(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** Skips the calling test, with the reason, where the agent cannot run: it loads a BPF program. */
  static void assumeAvailable() {
    assumeThat(Cmd.exec(List.of("id", "-u"), Duration.ofSeconds(5)).output().trim())
        .as("the kernel relay agent needs root (CAP_BPF and CAP_NET_ADMIN) to load its BPF program").isEqualTo("0");
    assumeThat(Cmd.exec(List.of("gcc", "--version"), Duration.ofSeconds(10)).ok())
        .as("building the kernel relay agent needs gcc (Debian gcc)").isTrue();
  }

  /** Starts the agent on {@code socket} (with {@code options}, e.g. "-n", "1") and waits until it listens. */
  static KernelRelayAgent start(Path socket, String... options) throws IOException, InterruptedException {
    assumeAvailable();
    Path log = Files.createTempFile("kernel-relay-agent-", ".log");
    List<String> command = new java.util.ArrayList<>(List.of(LAUNCHER.toString(), "-s", socket.toString()));
    command.addAll(List.of(options));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    KernelRelayAgent agent = new KernelRelayAgent(p, log);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); // gcc's first build included
    while (!Files.exists(socket)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        agent.close();
        String output = agent.log();
        // Root without CAP_BPF (a container), or a kernel without sockmap: the feature cannot run here.
        assumeThat(output).as("the kernel relay agent cannot load its BPF program on this machine: %s", output)
            .doesNotContain("the sockhash: ", "the verdict program: ");
        throw new IllegalStateException("kernel relay agent did not start: " + output);
      }
      Thread.sleep(20);
    }
    return agent;
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGTERM, as a service manager stops it; the agent removes its socket. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** SIGSTOP (true) or SIGCONT (false): a stuck agent, and one that goes on. */
  void stopped(boolean stop) {
    // bin/kernel-relay-agent execs the agent: the process is the agent itself
    Cmd.exec(List.of("kill", stop ? "-STOP" : "-CONT", Long.toString(process.pid())), Duration.ofSeconds(5)).orThrow();
  }

  /** SIGKILL: the agent dies without cleaning up, as in a crash. */
  void kill() throws InterruptedException {
    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }
}
