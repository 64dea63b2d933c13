package io.pgconmgr.conmgr.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pgconmgr.protocol.conf.ConmgrConf;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RefusalLogTest {

  private static final String FULL = "max_connections (2) reached";
  private static final String FILES = "open-files limit reached (ulimit -n 128 holds 30 client connections)";

  private final AtomicLong nanos = new AtomicLong(1_000);
  private final RefusalLog refusals = new RefusalLog(nanos::get, Duration.ofSeconds(10));
  private final Logger logger = (Logger) LoggerFactory.getLogger(RefusalLog.class);
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

  @BeforeEach
  void capture() {
    logged.start();
    logger.addAppender(logged);
  }

  @AfterEach
  void release() {
    logger.detachAppender(logged);
  }

  @Test
  void aFloodOfRefusalsGivesOneLineAtOnceAndOneSumPerWindow() {
    refusals.refused(client(1), FULL);
    for (int i = 2; i <= 500; i++) {
      refusals.refused(client(i), i % 100 == 0 ? FILES : FULL);
    }
    assertThat(lines()).containsExactly("connection from /127.0.0.1:1 refused: " + FULL);

    nanos.addAndGet(Duration.ofSeconds(9).toNanos());
    refusals.flush();
    assertThat(lines()).as("the window is not over").hasSize(1);

    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    refusals.flush();
    assertThat(lines()).containsExactly("connection from /127.0.0.1:1 refused: " + FULL,
        "499 more connection(s) refused within 10 s of the last one logged: " + FULL + " (494); " + FILES + " (5)");
    assertThat(logged.list).allSatisfy(e -> assertThat(Logging.rank(e)).isEqualTo(ConmgrConf.LogLevel.LOG));

    refusals.refused(client(501), FULL);
    assertThat(lines()).as("a quiet window: the next one is logged at once").hasSize(3)
        .last().isEqualTo("connection from /127.0.0.1:501 refused: " + FULL);
  }

  @Test
  void aRefusalAfterTheWindowSumsUpTheLastOneEvenWithoutFlush() {
    refusals.refused(client(1), FULL);
    refusals.refused(client(2), FULL);
    nanos.addAndGet(Duration.ofSeconds(11).toNanos());
    refusals.refused(client(3), FILES);
    assertThat(lines()).containsExactly("connection from /127.0.0.1:1 refused: " + FULL,
        "1 more connection(s) refused within 10 s of the last one logged: " + FULL + " (1)",
        "connection from /127.0.0.1:3 refused: " + FILES);
    refusals.flush();
    assertThat(lines()).as("nothing left to sum up").hasSize(3);
  }

  private List<String> lines() {
    return logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  private static InetSocketAddress client(int port) {
    return new InetSocketAddress("127.0.0.1", port);
  }
}
