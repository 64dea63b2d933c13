package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.testkit.PgCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CPU and memory per idle heartbeat session of a watchdog process (1,000 peers at a 1 s
 * interval by default). Not in the default run:
 * {@code mvn -B -q -pl watchdog-sidecar -am verify -Dtest='io.pgconmgr.watchdog.HeartbeatFootprintBench'
 * -Dsurefire.failIfNoSpecifiedTests=false -Dgroups=bench -Dwatchdog.excludedGroups=}
 * (other sizes: -DargLine="-Dbench.peers=10000 -Dbench.seconds=20"); figures in the test output.
 */
@Tag("bench")
class HeartbeatFootprintBench {
  private static final int PEERS = Integer.getInteger("bench.peers", 1000);
  private static final int SECONDS = Integer.getInteger("bench.seconds", 30);

  private record Sample(Duration cpu, long heapBytes, long rssKib) {
  }

  @Test
  void idleSessionsCostPerSession(@TempDir Path dir) throws Exception {
    List<TestPeer> peers = new ArrayList<>();
    try (PgCluster cluster = Pg.cluster(0);
         WatchdogProcess w = WatchdogProcess.start(dir, cluster.primary().conninfo("postgres"),
             List.of("-Xms32m", "-Xmx256m", "-XX:+UseSerialGC"),
             // The default limit is the instance's max_connections (100 in the test kit).
             "watchdog.max_heartbeat_connections = " + (PEERS + 10))) {
      Thread.sleep(5000); // JIT and first checks settle
      Sample idle0 = sample(w);
      Thread.sleep(SECONDS * 1000L);
      Sample idle1 = sample(w);

      for (int i = 0; i < PEERS; i++) {
        // Spread over ten source addresses, like pods on several nodes.
        peers.add(TestPeer.session("127.0.0." + (2 + i % 10), w.heartbeatAddress(), 1000, 3000));
      }
      long connected = System.nanoTime();
      Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2))
          .conditionEvaluationListener(c -> System.out.printf("sessions %.0f, lost %s%n",
              gauge(w, "watchdog_sessions"), lost(w)))
          .until(() -> gauge(w, "watchdog_sessions") == PEERS);
      System.out.printf("%d peers connected in %d ms%n", PEERS,
          (System.nanoTime() - connected) / 1_000_000);
      Thread.sleep(5000);
      Sample busy0 = sample(w);
      double sent0 = gauge(w, "watchdog_heartbeats_sent_total");
      Thread.sleep(SECONDS * 1000L);
      Sample busy1 = sample(w);
      double sent1 = gauge(w, "watchdog_heartbeats_sent_total");

      assertThat(gauge(w, "watchdog_sessions")).isEqualTo(PEERS);
      assertThat(w.http("/metrics").body()).doesNotContain("watchdog_peers_lost_total");

      double idleCpuMs = idle1.cpu().minus(idle0.cpu()).toNanos() / 1e6;
      double busyCpuMs = busy1.cpu().minus(busy0.cpu()).toNanos() / 1e6;
      double perSessionCpuPct = (busyCpuMs - idleCpuMs) / (SECONDS * 1000.0) / PEERS * 100;
      double heartbeats = sent1 - sent0;
      System.out.printf("""
          watchdog footprint, %d idle sessions at 1 s interval, %d s windows:
            process CPU: %.0f ms without peers, %.0f ms with peers (%.1f%% vs %.1f%% of one core)
            per session: %.4f%% of a core, %.1f us CPU per heartbeat exchanged (%.0f sent)
            heap after full GC: %d KiB -> %d KiB: %.0f bytes per session
            RSS: %d KiB -> %d KiB: %.1f KiB per session
          """, PEERS, SECONDS, idleCpuMs, busyCpuMs, idleCpuMs / SECONDS / 10,
          busyCpuMs / SECONDS / 10, perSessionCpuPct,
          (busyCpuMs - idleCpuMs) * 1000 / heartbeats, heartbeats,
          idle1.heapBytes() / 1024, busy1.heapBytes() / 1024,
          (busy1.heapBytes() - idle1.heapBytes()) / (double) PEERS,
          idle1.rssKib(), busy1.rssKib(), (busy1.rssKib() - idle1.rssKib()) / (double) PEERS);
    } finally {
      peers.forEach(TestPeer::close);
    }
  }

  private static Sample sample(WatchdogProcess w) throws Exception {
    Duration cpu = w.cpu();
    // Heap in use after a full collection: live data only.
    new ProcessBuilder("jcmd", String.valueOf(w.process.pid()), "GC.run")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        .waitFor();
    Thread.sleep(500);
    long heap = 0;
    Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"[^}]*} (\\S+)$")
        .matcher(w.http("/metrics").body());
    while (m.find()) {
      heap += (long) Double.parseDouble(m.group(1));
    }
    return new Sample(cpu, heap, w.rssKib());
  }

  private static List<String> lost(WatchdogProcess w) {
    return w.http("/metrics").body().lines()
        .filter(l -> l.startsWith("watchdog_peers_lost_total")
            || l.startsWith("watchdog_sessions_refused_total"))
        .toList();
  }

  private static double gauge(WatchdogProcess w, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(w.http("/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }
}
