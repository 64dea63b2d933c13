package io.pgconmgr.conmgr;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Argument handling of bin/conmgr (the process-level cases, conf errors and root, are in it/CmCtlTest). */
class ConmgrMainTest {

  private String stderr;

  private int run(String cmdata, String... args) {
    return runWithIoThreads(cmdata, null, args);
  }

  private int runWithIoThreads(String cmdata, String ioThreads, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status = ConmgrMain.run(args, cmdata, ioThreads, new PrintStream(out, true, StandardCharsets.UTF_8));
    stderr = out.toString(StandardCharsets.UTF_8);
    return status;
  }

  @Test
  void withoutDirectoryOrCmdataItExplainsUsage() {
    assertThat(run(null)).isEqualTo(2);
    assertThat(stderr).contains("no directory given: use -D DIR or set CMDATA", "Usage: conmgr");
    assertThat(run("", "-D")).isEqualTo(2);
    assertThat(stderr).contains("option -D needs a directory");
    assertThat(run(null, "--verbose")).isEqualTo(2);
    assertThat(stderr).contains("unknown argument \"--verbose\"");
  }

  @Test
  void helpExitsZero() {
    assertThat(run(null, "--help")).isZero();
    assertThat(stderr).contains("-W");
  }

  @Test
  void aBadIoThreadCountIsRefusedBeforeAnythingStarts() {
    for (String bad : new String[] {"0", "-2", "many", "65"}) {
      assertThat(runWithIoThreads("/nonexistent", bad)).isEqualTo(2);
      assertThat(stderr).contains("CONMGR_IO_THREADS must be a whole number from 1 to 64, got \"" + bad + "\"");
    }
  }
}
