package io.pgconmgr.conmgr.it;

import io.pgconmgr.testkit.Cmd;
import io.pgconmgr.testkit.ServerUser;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Runs bin/conmgr and bin/cm_ctl as real processes. As root they run as the test kit's
 * unprivileged user (conmgr refuses root), from a copy of conmgr's class path that user can read.
 */
final class ConmgrCli {

  static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();
  private static String classpath;

  private ConmgrCli() {
  }

  /** conmgr's part of this JVM's class path, copied where any user can read it. */
  static synchronized String classpath() {
    if (classpath != null) {
      return classpath;
    }
    try {
      Path dir = Files.createTempDirectory("conmgr-cp-");
      List<String> entries = new ArrayList<>();
      for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
        Path p = Path.of(e);
        String name = p.toString();
        boolean ours = name.endsWith("sidecar-conmgr/target/classes") || name.endsWith("protocol/target/classes");
        boolean lib = p.getFileName().toString().matches(
            "(netty|logback|slf4j|micrometer|prometheus|HdrHistogram|LatencyUtils|protocol-).*\\.jar");
        if (!ours && !lib) {
          continue;
        }
        Path target = dir.resolve(entries.size() + "-" + p.getFileName());
        if (Files.isDirectory(p)) {
          Cmd.run(List.of("cp", "-r", p.toString(), target.toString()));
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
        entries.add(target.toString());
      }
      Cmd.run(List.of("chmod", "-R", "a+rX", dir.toString()));
      Runtime.getRuntime().addShutdownHook(new Thread(() -> Cmd.exec(List.of("rm", "-rf", dir.toString()),
          Duration.ofSeconds(30))));
      classpath = String.join(File.pathSeparator, entries);
      return classpath;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A fresh directory for conmgr owned by the user it will run as. */
  static Path newDir() throws IOException {
    Path dir = Files.createTempDirectory("conmgr-dir-");
    ServerUser.own(dir);
    Cmd.run(List.of("chmod", "755", dir.toString()));
    return dir;
  }

  static void writeConf(Path dir, String text) throws IOException {
    Path conf = dir.resolve("conmgr.conf");
    Files.writeString(conf, text);
    ServerUser.own(conf);
  }

  /** Runs bin/{@code program} as the unprivileged user (when root). */
  static Cmd.Result run(String program, String... args) {
    return exec(true, program, args);
  }

  /** Runs bin/{@code program} as this JVM's user, root included. */
  static Cmd.Result runAsMe(String program, String... args) {
    return exec(false, program, args);
  }

  /** Runs bin/{@code program} as the unprivileged user, sending SIGTERM after {@code seconds} (foreground runs). */
  static Cmd.Result runFor(int seconds, String program, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    return exec(true, List.of("timeout", Integer.toString(seconds)), program, all.toArray(new String[0]));
  }

  /** Runs bin/{@code program} as the unprivileged user under an open-files limit (prlimit; soft and hard). */
  static Cmd.Result runWithOpenFiles(int soft, int hard, String program, String... args) {
    return exec(true, List.of("prlimit", "--nofile=" + soft + ":" + hard, "--"), program, args);
  }

  private static Cmd.Result exec(boolean unprivileged, String program, String... args) {
    return exec(unprivileged, List.of(), program, args);
  }

  private static Cmd.Result exec(boolean unprivileged, List<String> prefix, String program, String... args) {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(List.of("env", "CONMGR_CLASSPATH=" + classpath(),
        "CONMGR_JAVA_OPTS=-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1",
        REPO.resolve("bin").resolve(program).toString()));
    cmd.addAll(List.of(args));
    return Cmd.exec(unprivileged ? ServerUser.wrap(cmd) : cmd, Duration.ofSeconds(120));
  }

  /** Kills a conmgr left running in {@code dir} (test cleanup). */
  static void killLeftover(Path dir) {
    try {
      List<String> lines = Files.readAllLines(dir.resolve("conmgr.pid"));
      Cmd.exec(List.of("kill", "-9", lines.get(0).trim()), Duration.ofSeconds(10));
    } catch (IOException | RuntimeException e) {
      // nothing running
    }
    Cmd.exec(List.of("rm", "-rf", dir.toString()), Duration.ofSeconds(30));
  }

  static String describe(Cmd.Result r) {
    return "exit " + r.exitCode() + ":\n" + r.output().lines().map(l -> "  " + l).collect(Collectors.joining("\n"));
  }
}
