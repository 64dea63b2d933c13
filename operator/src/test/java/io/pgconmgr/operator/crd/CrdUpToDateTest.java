package io.pgconmgr.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The CRD checked in under crds/ must be what the build generates from the Java model. */
class CrdUpToDateTest {
  static final String FILE = "instancesets.pgconmgr.io-v1.yml";

  @Test
  void checkedInCrdEqualsTheGeneratedOne() throws IOException {
    String generated = generatedCrd();
    String checkedIn = Files.readString(Path.of("../crds", FILE));
    assertThat(checkedIn)
        .as("crds/%s differs from the CRD generated from the Java model. Refresh it from the repository root with:%n"
            + "  mvn -B -q -pl operator -am process-classes && cp operator/target/classes/META-INF/fabric8/%s crds/",
            FILE, FILE)
        .isEqualTo(generated);
  }

  static String generatedCrd() throws IOException {
    try (InputStream in = CrdUpToDateTest.class.getResourceAsStream("/META-INF/fabric8/" + FILE)) {
      assertThat(in).as("generated CRD on the classpath (crd-generator-maven-plugin, process-classes)").isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
