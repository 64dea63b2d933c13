package io.pgconmgr.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.MountableFile;

/**
 * Builds the project's images with the docker CLI (BuildKit: the Dockerfiles use a Maven cache
 * mount, which Testcontainers' own image builder does not support) and loads them into k3s's
 * containerd, so that pods find them without a registry.
 */
final class ImageLoader {

  private final Path repoRoot;
  private final Path workDir;

  ImageLoader(Path repoRoot, Path workDir) {
    this.repoRoot = repoRoot;
    this.workDir = workDir;
  }

  void buildAndLoad(String dockerfile, String image, K3sContainer k3s) throws IOException, InterruptedException {
    Files.createDirectories(workDir);
    String file = image.replaceAll("[^A-Za-z0-9.]", "_");
    run(Duration.ofMinutes(30), workDir.resolve(file + ".build.log"),
        "docker", "build", "-f", dockerfile, "-t", image, ".");
    Path tar = workDir.resolve(file + ".tar");
    run(Duration.ofMinutes(5), workDir.resolve(file + ".save.log"), "docker", "save", "-o", tar.toString(), image);
    String inContainer = "/tmp/" + file + ".tar";
    k3s.copyFileToContainer(MountableFile.forHostPath(tar), inContainer);
    ExecResult imported = k3s.execInContainer("k3s", "ctr", "-n", "k8s.io", "images", "import", inContainer);
    if (imported.getExitCode() != 0) {
      throw new IllegalStateException("importing " + image + " into k3s failed: " + imported.getStderr());
    }
    k3s.execInContainer("rm", "-f", inContainer);
  }

  private void run(Duration timeout, Path log, String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(List.of(command)).directory(repoRoot.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout + "; see " + log);
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " exited with " + process.exitValue() + "; see " + log);
    }
  }
}
