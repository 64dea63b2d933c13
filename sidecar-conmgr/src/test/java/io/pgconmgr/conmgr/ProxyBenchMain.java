package io.pgconmgr.conmgr;

import com.sun.management.OperatingSystemMXBean;
import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.testkit.PgCluster;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Not a test (surefire skips it): pgbench -S direct vs through an in-process conmgr, interleaved, printing TPS,
 * latency, the load average and conmgr CPU per 1k transactions. Run from sidecar-conmgr/target/test-classes with
 * the test class path: {@code java ... io.pgconmgr.conmgr.ProxyBenchMain [rounds] [stress]}. Needs pgbench.
 */
public final class ProxyBenchMain {

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    try (PgCluster cluster = PgCluster.builder().namePrefix("perf").start()) {
      int pg = cluster.primary().port();
      var conf = TestConf.conf(List.of(TestConf.instance(0, pg, 1)), List.of(), 2000, 0);
      Conmgr conmgr = Conmgr.start(conf, new Conmgr.Options(null, false, false));
      try {
        conmgr.table().linkUp(0, new Attributes(true, false, false, 1, 1, -1, 170006), null);
        int cm = conmgr.listenAddresses().get(0).getPort();
        run(pg, List.of("-i", "-s", "1", "-q"));
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        List<List<String>> modes = List.of(List.of("-S", "-c", "1", "-j", "1"), List.of("-S", "-c", "8", "-j", "2"),
            List.of("-S", "-C", "-c", "8", "-j", "2"));
        if (args.length > 1 && args[1].equals("stress")) {
          // Many short connections at once: every one must get through (pgbench aborts on the first failure).
          for (int r = 0; r < rounds; r++) {
            String out = run(cm, List.of("-S", "-C", "-c", "32", "-j", "2", "-T", "15"));
            System.out.printf("stress %d: %d tx%s%n", r, txs(out), errors(out));
          }
          return;
        }
        run(cm, List.of("-S", "-C", "-c", "8", "-j", "2", "-T", "3")); // warm up the JIT
        Map<String, Long> idle0 = threads();
        Thread.sleep(3000);
        Map<String, Long> idle1 = threads();
        System.out.println("idle 3 s after the -C warm-up, CPU ms by thread: " + idle1.entrySet().stream()
            .filter(e -> e.getKey().startsWith("conmgr"))
            .map(e -> e.getKey() + "=" + (e.getValue() - idle0.getOrDefault(e.getKey(), 0L)) / 1_000_000).toList());
        for (int r = 0; r < rounds; r++) {
          for (List<String> mode : modes) {
            List<String> a = new ArrayList<>(mode);
            a.addAll(List.of("-T", "5"));
            String direct = run(pg, a);
            Map<String, Long> th0 = threads();
            long[] t0 = ticks();
            long cpu0 = os.getProcessCpuTime();
            String through = run(cm, a);
            long cpu = os.getProcessCpuTime() - cpu0;
            long[] t1 = ticks();
            Map<String, Long> th1 = threads();
            StringBuilder top = new StringBuilder();
            th1.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue() - th0.getOrDefault(y.getKey(), 0L),
                x.getValue() - th0.getOrDefault(x.getKey(), 0L))).limit(6).forEach(e -> top.append(' ').append(e.getKey())
                .append('=').append((e.getValue() - th0.getOrDefault(e.getKey(), 0L)) / 1_000_000).append("ms"));
            System.out.println("    threads:" + top);
            double td = tps(direct);
            double tc = tps(through);
            long tx = txs(through);
            System.out.printf("round %d %-22s load %s direct %8.0f tps %6s | conmgr %8.0f tps %6s ratio %.2f | cpu %.1f ms/1k tx (user %d%%)%s%n",
                r, String.join(" ", mode), Files.readString(Path.of("/proc/loadavg")).substring(0, 14), td, lat(direct),
                tc, lat(through), tc / td, tx == 0 ? 0 : cpu / 1e6 / (tx / 1000.0),
                100 * (t1[0] - t0[0]) / Math.max(1, t1[0] - t0[0] + t1[1] - t0[1]), errors(direct + through));
          }
        }
      } finally {
        conmgr.close();
      }
    }
  }

  static Map<String, Long> threads() {
    var mx = ManagementFactory.getThreadMXBean();
    Map<String, Long> m = new HashMap<>();
    for (var info : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (info != null) {
        m.merge(info.getThreadName(), mx.getThreadCpuTime(info.getThreadId()), Long::sum);
      }
    }
    return m;
  }

  /** utime, stime of this process in clock ticks. */
  static long[] ticks() throws Exception {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
  }

  static String run(int port, List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("pgbench", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres"));
    cmd.addAll(args);
    cmd.add("postgres");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }

  static double tps(String out) {
    Matcher m = Pattern.compile("tps = ([0-9.]+)").matcher(out);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  static String lat(String out) {
    Matcher m = Pattern.compile("latency average = ([0-9.]+) ms").matcher(out);
    return m.find() ? String.format("%.0fus", Double.parseDouble(m.group(1)) * 1000) : "?";
  }

  static long txs(String out) {
    Matcher m = Pattern.compile("number of transactions actually processed: ([0-9]+)").matcher(out);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  static String errors(String out) {
    StringBuilder b = new StringBuilder();
    for (String line : out.split("\n")) {
      if (line.contains("error")) {
        b.append("\n    ").append(line);
      }
    }
    return b.toString();
  }
}
