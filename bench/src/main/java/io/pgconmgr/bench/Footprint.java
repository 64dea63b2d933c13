package io.pgconmgr.bench;

/** conmgr and watchdog resident memory idle and under load, and start-to-ready time. */
final class Footprint {

    private Footprint() {
    }

    static void run(Options o) {
        System.out.println("\n### Footprint\n\nnot measured: " + Sidecars.missingReason());
    }
}
