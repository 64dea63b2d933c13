package io.pgconmgr.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Heap figures of another JVM through jcmd (run as that JVM's user, which attach requires). */
final class Jvm {

    private static final Pattern USED = Pattern.compile("used (\\d+)K");

    private Jvm() {
    }

    /** Heap in use after a full GC, in KiB, or -1 when jcmd could not attach. */
    static long heapAfterGcKib(long pid, String asUser) {
        run(pid, asUser, "GC.run");
        Proc.Result r = run(pid, asUser, "GC.heap_info");
        return r.exitCode() == 0 ? parseHeapUsedKib(r.output()) : -1;
    }

    /** Sums the heap generations' "used NK" of GC.heap_info (Metaspace and class space are not heap). */
    static long parseHeapUsedKib(String heapInfo) {
        long sum = 0;
        boolean found = false;
        for (String line : heapInfo.lines().toList()) {
            String t = line.trim();
            if (t.startsWith("Metaspace") || t.startsWith("class space") || !t.contains("total")) {
                continue;
            }
            Matcher m = USED.matcher(t);
            if (m.find()) {
                sum += Long.parseLong(m.group(1));
                found = true;
            }
        }
        return found ? sum : -1;
    }

    private static Proc.Result run(long pid, String asUser, String command) {
        List<String> cmd = new ArrayList<>();
        if (asUser != null) {
            cmd.addAll(List.of("runuser", "-u", asUser, "--"));
        }
        cmd.addAll(List.of("jcmd", String.valueOf(pid), command));
        return Proc.run(cmd, Duration.ofSeconds(60));
    }
}
