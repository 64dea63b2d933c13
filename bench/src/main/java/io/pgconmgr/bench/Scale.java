package io.pgconmgr.bench;

/** 10,000 heartbeat sessions on one watchdog; 10,000 idle proxied connections through one conmgr. */
final class Scale {

    private Scale() {
    }

    static void run(Options o) {
        System.out.println("\n### Scale\n\nnot measured: " + Sidecars.missingReason());
    }
}
