package io.pgconmgr.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invariants of the three images, checked by reading their Dockerfiles (no Docker engine here):
 * multi-stage, non-root, read-only-root friendly, sized JVM, the jar their module really builds.
 */
class DockerfileTest {

  /** Each image: its Dockerfile, the module it packages, the jar name, the ports it serves (HTTP last). */
  static Stream<Arguments> images() {
    return Stream.of(
        Arguments.of("Dockerfile.sidecar", "sidecar-conmgr", "conmgr", List.of(27546, 27547)),
        Arguments.of("Dockerfile.watchdog", "watchdog-sidecar", "watchdog", List.of(27545, 27548)),
        Arguments.of("Dockerfile.operator", "operator", "operator", List.of(8443, 8080)));
  }

  /** The sidecars are shaded jars run with -jar; the operator a class path (module jar + its dependencies). */
  static Stream<Arguments> shadedImages() {
    return images().filter(a -> !a.get()[0].equals("Dockerfile.operator"));
  }

  /** Health endpoint each image's HEALTHCHECK asks. */
  private static final Map<String, String> LIVENESS = Map.of(
      "Dockerfile.sidecar", "/live", "Dockerfile.watchdog", "/live", "Dockerfile.operator", "/healthz");

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void buildsWithMavenThenRunsOnASmallJreBase(String file, String module, String jar, List<Integer> ports) throws IOException {
    Dockerfile dockerfile = read(file);
    List<Dockerfile.Instruction> stages = dockerfile.all("FROM");
    assertThat(stages).hasSize(2);
    assertThat(stages.get(0).arguments()).endsWith(" AS build");
    assertThat(dockerfile.argDefault("BUILD_IMAGE")).hasValueSatisfying(image -> assertThat(image).startsWith("maven:").contains("-17"));
    assertThat(dockerfile.argDefault("JRE_IMAGE")).hasValueSatisfying(image -> assertThat(image).contains("17-jre"));
    assertThat(stages.get(1).arguments()).isEqualTo("${JRE_IMAGE}");
    assertThat(dockerfile.instructions()).noneMatch(i -> i.arguments().contains(":latest"));
    assertThat(dockerfile.all("ADD")).as("COPY only, no remote ADD").isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void runsAsANumericNonRootUserWithTheUidTheOperatorAndChartExpect(String file, String module, String jar,
      List<Integer> ports) throws IOException {
    Dockerfile last = read(file).finalStage();
    String user = last.lastArguments("USER").orElseThrow(() -> new AssertionError(file + " has no USER"));
    Matcher uidGid = Pattern.compile("(\\d+):(\\d+)").matcher(user);
    assertThat(uidGid.matches()).as("USER %s is numeric uid:gid, so runAsNonRoot can verify it", user).isTrue();
    assertThat(Integer.parseInt(uidGid.group(1))).isEqualTo(ChartContract.IMAGE_UID).isNotZero();
    assertThat(Integer.parseInt(uidGid.group(2))).isNotZero();
    // USER comes after every RUN, so nothing at run time is root.
    int userIndex = last.instructions().lastIndexOf(last.all("USER").get(last.all("USER").size() - 1));
    assertThat(last.instructions().subList(userIndex, last.instructions().size()))
        .noneMatch(i -> i.keyword().equals("RUN"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("shadedImages")
  void packagesTheJarItsModuleBuilds(String file, String module, String jar, List<Integer> ports) throws IOException {
    Dockerfile dockerfile = read(file);
    Path root = RenderedChart.repoRoot();
    String parentPom = Files.readString(root.resolve("pom.xml"));
    assertThat(parentPom).contains("<module>" + module + "</module>");
    String modulePom = Files.readString(root.resolve(module).resolve("pom.xml"));
    // The shade plugin names its jar by <finalName>NAME</finalName> or <outputFile>.../NAME.jar</outputFile>.
    List<String> jarNames = Pattern.compile("<finalName>\\s*([^<\\s]+)\\s*</finalName>"
            + "|<outputFile>\\$\\{project\\.build\\.directory}/([^<\\s/]+)\\.jar</outputFile>").matcher(modulePom)
        .results().map(m -> m.group(1) != null ? m.group(1) : m.group(2)).toList();
    assertThat(jarNames).as("jar names in %s/pom.xml", module).contains(jar);

    String build = dockerfile.all("RUN").get(0).arguments();
    assertThat(build).contains("mvn ", "-pl " + module + " ", "-am", "-DskipTests", "package")
        .contains("cp " + module + "/target/" + jar + ".jar /out/app.jar");
    String installed = "/opt/pgconmgr/" + jar + ".jar";
    assertThat(dockerfile.finalStage().all("COPY")).extracting(Dockerfile.Instruction::arguments)
        .contains("--from=build /out/app.jar " + installed);
    assertThat(exec(dockerfile.finalStage().lastArguments("ENTRYPOINT").orElseThrow()))
        .containsExactly("java", "-jar", installed);
  }

  @org.junit.jupiter.api.Test
  void operatorRunsItsModulesJarAndRuntimeDependenciesOnAClassPath() throws IOException {
    Dockerfile dockerfile = read("Dockerfile.operator");
    String build = dockerfile.all("RUN").get(0).arguments();
    assertThat(build).contains("-pl operator ", "-am", "-DskipTests", "package", "dependency:copy-dependencies",
        "-DincludeScope=runtime", "cp -r operator/target/dependency /out/lib", "cp operator/target/operator-*.jar /out/app.jar");
    assertThat(dockerfile.finalStage().all("COPY")).extracting(Dockerfile.Instruction::arguments)
        .contains("--from=build /out/lib/ /opt/pgconmgr/lib/", "--from=build /out/app.jar /opt/pgconmgr/operator.jar");
    List<String> entrypoint = exec(dockerfile.finalStage().lastArguments("ENTRYPOINT").orElseThrow());
    assertThat(entrypoint.subList(0, 3)).containsExactly("java", "-cp", "/opt/pgconmgr/operator.jar:/opt/pgconmgr/lib/*");
    assertThat(entrypoint).hasSize(4);
    Path main = RenderedChart.repoRoot().resolve("operator/src/main/java")
        .resolve(entrypoint.get(3).replace('.', '/') + ".java");
    Assumptions.assumeTrue(Files.exists(RenderedChart.repoRoot().resolve("operator/src/main/java")),
        "the operator's sources have not landed yet");
    assertThat(main).exists();
    assertThat(Files.readString(main)).contains("public static void main(String[] args)");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void jvmIsSizedForASmallContainerAndWritesNothingOutsideTmp(String file, String module, String jar,
      List<Integer> ports) throws IOException {
    Dockerfile dockerfile = read(file).finalStage();
    List<String> options = Arrays.asList(dockerfile.env("JAVA_TOOL_OPTIONS").orElseThrow().split("\\s+"));
    assertThat(options).contains("-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError", "-XX:-UsePerfData",
        "-Djava.io.tmpdir=/tmp", "-Xshare:auto");
    assertThat(options).anyMatch(o -> o.startsWith("-XX:MaxRAMPercentage="))
        .anyMatch(o -> o.startsWith("-XX:MaxMetaspaceSize="))
        .noneMatch(o -> o.startsWith("-Xmx")); // the heap follows the container's memory limit
    // The archive the JVM maps is the one the training run wrote, with the same jar path.
    String archive = "/opt/pgconmgr/cds/" + jar + ".jsa";
    assertThat(options).contains("-XX:SharedArchiveFile=" + archive);
    // The training run starts the program the way the ENTRYPOINT does (same class path).
    List<String> entrypoint = exec(dockerfile.lastArguments("ENTRYPOINT").orElseThrow());
    String launch = entrypoint.get(1).equals("-jar") ? "-jar " + entrypoint.get(2)
        : "-cp \"" + entrypoint.get(2) + "\" " + entrypoint.get(3);
    assertThat(dockerfile.all("RUN")).anySatisfy(run -> assertThat(run.arguments())
        .contains("-XX:ArchiveClassesAtExit=" + archive, launch, "if [ ! -s " + archive + " ]; then", "exit 1")
        .contains("JAVA_TOOL_OPTIONS=\"$JVM_DEFAULTS\""));
    // The training run is the runtime user's, and the archive root's again before the image is done.
    List<Dockerfile.Instruction> steps = dockerfile.instructions();
    int training = steps.indexOf(dockerfile.all("RUN").stream()
        .filter(r -> r.arguments().contains("-XX:ArchiveClassesAtExit=")).findFirst().orElseThrow());
    assertThat(steps.subList(0, training)).filteredOn(i -> i.keyword().equals("USER")).last()
        .extracting(Dockerfile.Instruction::arguments).isEqualTo(ChartContract.IMAGE_UID + ":" + ChartContract.IMAGE_UID);
    assertThat(steps.subList(training, steps.size())).extracting(Dockerfile.Instruction::arguments)
        .contains("chown -R root:root /opt/pgconmgr/cds");
    // The exec form: the JVM is PID 1 and gets SIGTERM directly (clean goodbye to peers).
    assertThat(dockerfile.lastArguments("ENTRYPOINT").orElseThrow()).startsWith("[");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void exposesAndHealthChecksThePortsTheChartAndSpecUse(String file, String module, String jar,
      List<Integer> ports) throws IOException {
    Dockerfile dockerfile = read(file).finalStage();
    List<Integer> exposed = Arrays.stream(dockerfile.lastArguments("EXPOSE").orElseThrow().split("\\s+"))
        .map(Integer::parseInt).toList();
    assertThat(exposed).containsExactlyInAnyOrderElementsOf(ports);
    String healthcheck = dockerfile.lastArguments("HEALTHCHECK").orElseThrow();
    assertThat(healthcheck).contains("/dev/tcp/127.0.0.1/" + ports.get(1)).contains("GET " + LIVENESS.get(file) + " ");
  }

  @org.junit.jupiter.api.Test
  void dockerIgnoreKeepsBuildOutputAndGitOutOfTheContext() throws IOException {
    List<String> ignored = Files.readAllLines(RenderedChart.repoRoot().resolve(".dockerignore"));
    assertThat(ignored).contains("**/target/", ".git/");
  }

  private static Dockerfile read(String file) throws IOException {
    return Dockerfile.read(RenderedChart.repoRoot().resolve(file));
  }

  /** The arguments of an exec-form (JSON array) instruction. */
  private static List<String> exec(String jsonArray) {
    assertThat(jsonArray).startsWith("[").endsWith("]");
    return Arrays.stream(jsonArray.substring(1, jsonArray.length() - 1).split(","))
        .map(String::strip).map(s -> s.substring(1, s.length() - 1)).toList();
  }
}
