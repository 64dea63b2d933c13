package io.pgconmgr.protocol.conf;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.protocol.conf.ConmgrConf.LogDestination;
import io.pgconmgr.protocol.conf.ConmgrConf.LogLevel;
import io.pgconmgr.protocol.conf.ConmgrConf.SyslogFacility;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Rendering then parsing gives back the model, for many random valid models. */
class ConmgrConfRoundTripTest {

  private static final int MODELS = 500;
  private static final String ODD_CHARS = "'\\\n\t\r\u0001#= ,é\"";

  @Test
  void renderedDefaultsReadBackEqual() throws Exception {
    ConmgrConf conf = new ConmgrConfBuilder().instance(ConmgrConfBuilder.instance(0, "db0")).build();
    String text = ConmgrConfRenderer.render(conf);
    assertThat(text).startsWith("# conmgr.conf: ");
    assertThat(ConmgrConfParser.parse(text, "conmgr.conf")).isEqualTo(conf);
  }

  @Test
  void renderingIsStable() {
    ConmgrConf conf = new ConmgrConfBuilder()
        .instance(new BackendInstance(2, "db2", "10.0.0.2", 5432, 27545))
        .instance(ConmgrConfBuilder.instance(0, "db0"))
        .listener(new Listener(6001, TargetSessionAttrs.STANDBY))
        .logDestinations(Set.of(LogDestination.SYSLOG, LogDestination.STDERR))
        .build();
    String text = ConmgrConfRenderer.render(conf);
    assertThat(ConmgrConfRenderer.render(conf)).isEqualTo(text);
    assertThat(text).contains("""
        port = 27546
        target_session_attrs = read-write
        listen_addresses = '127.0.0.1'
        listener_port0 = 6001
        listener_target_session_attrs0 = standby
        """).contains("""
        backend_host0 = 'db0'
        backend_port0 = 27500
        watchdog_port0 = 27545
        backend_host2 = 'db2'
        backend_hostaddr2 = '10.0.0.2'
        backend_port2 = 5432
        """).contains("log_destination = 'stderr,syslog'\n");
  }

  @Test
  void randomValidModelsSurviveRenderAndParse() {
    long seed = Long.getLong("roundtrip.seed", System.nanoTime());
    Random random = new Random(seed);
    for (int i = 0; i < MODELS; i++) {
      ConmgrConf model = randomModel(random);
      String text = ConmgrConfRenderer.render(model);
      try {
        assertThat(ConmgrConfValidator.validate(model).errors()).as("generated model is valid").isEmpty();
        assertThat(ConmgrConfParser.parse(text, "conmgr.conf")).isEqualTo(model);
      } catch (AssertionError | ConfException e) {
        throw new AssertionError("round trip failed for model " + i + " of seed " + seed
            + " (rerun with -Droundtrip.seed=" + seed + ")\n" + text, e);
      }
    }
    System.out.println("round trip: " + MODELS + " random models, seed " + seed);
  }

  private static ConmgrConf randomModel(Random r) {
    Set<Integer> ports = new HashSet<>();
    int port = freePort(r, ports);
    int httpPort = r.nextInt(4) == 0 ? 0 : freePort(r, ports);
    List<Listener> listeners = new ArrayList<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      listeners.add(new Listener(freePort(r, ports), pick(r, TargetSessionAttrs.values())));
    }
    List<BackendInstance> instances = new ArrayList<>();
    for (int n : instanceNumbers(r)) {
      boolean host = r.nextBoolean();
      boolean hostaddr = !host || r.nextBoolean();
      instances.add(new BackendInstance(n, host ? hostName(r) : null, hostaddr ? ipAddress(r) : null,
          1 + r.nextInt(65535), 1 + r.nextInt(65535)));
    }
    Set<LogDestination> destinations = EnumSet.noneOf(LogDestination.class);
    while (destinations.isEmpty()) {
      for (LogDestination d : LogDestination.values()) {
        if (r.nextBoolean()) {
          destinations.add(d);
        }
      }
    }
    return new ConmgrConf(port, pick(r, TargetSessionAttrs.values()), listeners,
        r.nextBoolean() ? "*" : ipAddress(r) + ", " + hostName(r), instances,
        positive(r), positive(r), positive(r), positive(r), destinations,
        pick(r, SyslogFacility.values()), ident(r), pick(r, LogLevel.values()),
        r.nextBoolean() ? 0 : r.nextInt(Integer.MAX_VALUE), httpPort,
        r.nextBoolean() ? 0 : r.nextInt(Integer.MAX_VALUE),
        r.nextBoolean() ? "" : "/run/" + ident(r) + "/kernel-relay.sock");
  }

  private static TreeSet<Integer> instanceNumbers(Random r) {
    TreeSet<Integer> numbers = new TreeSet<>();
    int count = 1 + r.nextInt(5);
    while (numbers.size() < count) {
      numbers.add(r.nextInt(10) == 0 ? r.nextInt(1_000_000) : r.nextInt(8));
    }
    return numbers;
  }

  private static int freePort(Random r, Set<Integer> used) {
    int p;
    do {
      p = r.nextBoolean() ? 1 + r.nextInt(65535) : pick(r, new Integer[] {1, 65535, 27546, 27547});
    } while (!used.add(p));
    return p;
  }

  private static int positive(Random r) {
    return switch (r.nextInt(3)) {
      case 0 -> 1;
      case 1 -> Integer.MAX_VALUE - r.nextInt(2);
      default -> 1 + r.nextInt(1000);
    };
  }

  private static String hostName(Random r) {
    String[] labels = {"db", "pg-0", "primary", "x1", "svc", "cluster", "local", "a_b"};
    StringBuilder s = new StringBuilder(pick(r, labels));
    for (int i = r.nextInt(4); i > 0; i--) {
      s.append('.').append(pick(r, labels));
    }
    return s.toString();
  }

  private static String ipAddress(Random r) {
    if (r.nextBoolean()) {
      return r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256);
    }
    return pick(r, new String[] {"::1", "::", "fd00::" + Integer.toHexString(r.nextInt(65536)),
        "2001:db8:0:1:2:3:4:" + Integer.toHexString(r.nextInt(65536)), "::ffff:10.0.0.1"});
  }

  private static String ident(Random r) {
    StringBuilder s = new StringBuilder("cm");
    for (int i = r.nextInt(8); i > 0; i--) {
      s.append(r.nextBoolean() ? (char) ('a' + r.nextInt(26)) : ODD_CHARS.charAt(r.nextInt(ODD_CHARS.length())));
    }
    return s.toString();
  }

  private static <T> T pick(Random r, T[] values) {
    return values[r.nextInt(values.length)];
  }
}
