package io.pgconmgr.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Last-resort cleanup: a JVM shutdown hook runs whatever a test forgot to close (newest first). */
final class Leftovers {

    private static final Map<Object, Runnable> PENDING = new LinkedHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Leftovers::runAll, "pgconmgr-testkit-leftovers"));
    }

    private Leftovers() {
    }

    static synchronized void register(Object owner, Runnable cleanup) {
        PENDING.put(owner, cleanup);
    }

    static synchronized void done(Object owner) {
        PENDING.remove(owner);
    }

    private static void runAll() {
        List<Runnable> actions;
        synchronized (Leftovers.class) {
            actions = new ArrayList<>(PENDING.values());
            PENDING.clear();
        }
        Collections.reverse(actions);
        for (Runnable r : actions) {
            try {
                r.run();
            } catch (RuntimeException e) {
                System.err.println("pgconmgr testkit: leftover cleanup failed: " + e);
            }
        }
    }
}
