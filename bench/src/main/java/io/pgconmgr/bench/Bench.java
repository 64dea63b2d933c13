package io.pgconmgr.bench;

import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Entry point: {@code java -jar pgconmgr-bench.jar NAME [--option value]...}; bench/run.sh wraps it. */
public final class Bench {

    /** One benchmark: prints Markdown tables of figures on stdout, progress on stderr. */
    interface Benchmark {
        void run(Options options) throws Exception;
    }

    private static final Map<String, Benchmark> BENCHMARKS = new LinkedHashMap<>();

    static {
        BENCHMARKS.put("overhead", ProxyOverhead::run);
        BENCHMARKS.put("detection", FailureDetection::run);
        BENCHMARKS.put("failover", Failover::run);
        BENCHMARKS.put("scale", Scale::run);
        BENCHMARKS.put("footprint", Footprint::run);
    }

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !(BENCHMARKS.containsKey(args[0]) || args[0].equals("all"))) {
            System.err.println("usage: bench/run.sh " + String.join("|", BENCHMARKS.keySet()) + "|all [--option value]...");
            System.exit(2);
        }
        Options options = Options.parse(Arrays.copyOfRange(args, 1, args.length));
        System.out.println("## bench " + String.join(" ", args) + " — " + Instant.now() + " — " + Machine.describe());
        boolean ok = true;
        if (args[0].equals("all")) {
            for (Map.Entry<String, Benchmark> b : BENCHMARKS.entrySet()) {
                ok &= runOne(b.getKey(), b.getValue(), options);
            }
        } else {
            ok = runOne(args[0], BENCHMARKS.get(args[0]), options);
        }
        // Testkit's shutdown hooks remove leftovers; exit explicitly so no stray non-daemon thread keeps us alive.
        System.exit(ok ? 0 : 1);
    }

    /** Runs one benchmark; a failure is reported in the output and the next benchmark still runs. */
    private static boolean runOne(String name, Benchmark b, Options options) {
        long t0 = System.nanoTime();
        Table.progress(name + ": start");
        try {
            b.run(options);
            Table.progress(name + ": done in " + Table.secs(System.nanoTime() - t0));
            return true;
        } catch (Exception | Error e) {
            System.out.println("\n### " + name + ": FAILED after " + Table.secs(System.nanoTime() - t0) + "\n\n" + e);
            e.printStackTrace();
            return false;
        }
    }
}
