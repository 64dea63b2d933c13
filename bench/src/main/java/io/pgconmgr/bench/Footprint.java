package io.pgconmgr.bench;

import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** conmgr and watchdog: start-to-ready time, resident memory idle and under pgbench load, with the launchers' JVM flags. */
final class Footprint {

    private Footprint() {
    }

    static void run(Options o) throws Exception {
        if (Sidecars.missingReason() != null) {
            System.out.println("\n### Footprint\n\nnot measured: " + Sidecars.missingReason());
            return;
        }
        int starts = o.integer("starts", 3);
        Duration load = o.seconds("duration", 10);
        String conmgrFlags = Sidecars.imageJvmFlags("Dockerfile.sidecar");
        String watchdogFlags = Sidecars.imageJvmFlags("Dockerfile.watchdog");
        List<String> args = new ArrayList<>();
        if (conmgrFlags != null) {
            args.addAll(List.of("--conmgr-java-opts", conmgrFlags));
        }
        if (watchdogFlags != null) {
            args.addAll(List.of("--watchdog-java-opts", watchdogFlags));
        }
        Options so = Options.parse(args.toArray(String[]::new));
        List<String> conmgrReady = new ArrayList<>();
        List<String> watchdogReady = new ArrayList<>();
        Table table = new Table("Footprint: conmgr and watchdog sidecars (one instance, " + starts + " cold starts)",
                "figure", "conmgr", "watchdog");
        try (PgCluster cluster = PgCluster.builder().namePrefix("bench-footprint").start()) {
            PgInstance pg = cluster.primary();
            Pgbench.init(pg.host(), pg.port(), 1);
            for (int i = 1; i <= starts; i++) {
                try (Sidecars sidecars = Sidecars.startIfBuilt(List.of(pg), so)) {
                    Sidecars.Watchdog w = sidecars.watchdogs().get(0);
                    watchdogReady.add(Table.fmt(w.readyNanos() / 1e6, 0) + " ms");
                    conmgrReady.add(Table.fmt(sidecars.conmgrReady().toNanos() / 1e6, 0) + " ms");
                    if (i < starts) {
                        continue;
                    }
                    long cPid = sidecars.conmgrJvmPid();
                    long wPid = w.jvmPid();
                    Net.sleep(Duration.ofSeconds(5));
                    table.row("start to ready (exec to HTTP /ready = 200), each start", conmgrReady, watchdogReady);
                    table.row("RSS idle, 5 s after ready", Proc.rssKib(cPid) / 1024 + " MiB", Proc.rssKib(wPid) / 1024 + " MiB");
                    long c0 = Proc.cpuMillis(cPid);
                    AtomicLong cMax = new AtomicLong();
                    AtomicLong wMax = new AtomicLong();
                    Thread sampler = new Thread(() -> {
                        while (!Thread.currentThread().isInterrupted()) {
                            cMax.accumulateAndGet(Proc.rssKib(cPid), Math::max);
                            wMax.accumulateAndGet(Proc.rssKib(wPid), Math::max);
                            try {
                                Thread.sleep(250);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }, "rss-sampler");
                    sampler.setDaemon(true);
                    sampler.start();
                    long t0 = System.nanoTime();
                    Pgbench.Result r = Pgbench.selectOnly("127.0.0.1", sidecars.conmgrPort(), 8, 2, load, false);
                    double wall = (System.nanoTime() - t0) / 1e9;
                    sampler.interrupt();
                    sampler.join();
                    if (!r.ok()) {
                        table.note("pgbench through conmgr failed: " + r.errors());
                    }
                    table.row("RSS peak under pgbench -S -c 8 -T " + load.toSeconds() + " through conmgr ("
                            + Table.fmt(r.tps(), 0) + " tps)", cMax.get() / 1024 + " MiB", wMax.get() / 1024 + " MiB");
                    table.row("CPU under that load", Table.fmt((Proc.cpuMillis(cPid) - c0) / 10.0 / wall, 0) + " % of one core", "-");
                    table.row("heap after GC, after the load",
                            Jvm.heapAfterGcKib(cPid, io.pgconmgr.testkit.ServerUser.NAME) / 1024 + " MiB",
                            Jvm.heapAfterGcKib(wPid, null) / 1024 + " MiB");
                    table.row("JVM flags", conmgrFlags != null ? conmgrFlags + " (Dockerfile.sidecar)"
                                    : Sidecars.conmgrJavaOpts(o) + " (launcher default: no Dockerfile.sidecar here)",
                            watchdogFlags != null ? watchdogFlags + " (Dockerfile.watchdog)"
                                    : Sidecars.watchdogJavaOpts() + " (launcher default: no Dockerfile.watchdog here)");
                }
            }
        }
        table.note("MaxRAMPercentage applies to the machine's memory here (no container limit), so the heap may grow "
                + "larger than in a pod with a memory limit; heap after GC shows what is live.");
        table.note("The images also map an AppCDS archive made at image build; these runs do not have it, so the "
                + "images should start faster than shown.");
        table.note("conmgr's ready time includes the JVM start, loading conmgr.conf, the heartbeat to the watchdog and "
                + "its first attribute answer (/ready waits for a primary); the watchdog's includes its first check of PostgreSQL.");
        table.print();
    }
}
