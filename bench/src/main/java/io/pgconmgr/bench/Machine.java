package io.pgconmgr.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** One line describing the machine a run happened on, printed at the top of every report. */
final class Machine {

    private Machine() {
    }

    static String describe() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException ignored) {
            // keep "?"
        }
        long memMib = 0;
        try {
            memMib = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024).orElse(0L);
        } catch (IOException ignored) {
            // keep 0
        }
        String load = "?";
        try {
            load = Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[0];
        } catch (IOException ignored) {
            // keep "?"
        }
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + memMib + " MiB, load "
                + load + ", Java " + System.getProperty("java.version") + ", " + version("pgbench") + ", "
                + version("haproxy") + ", " + version("pgbouncer");
    }

    private static String version(String program) {
        Proc.Result r = Proc.run(List.of(program, program.equals("haproxy") ? "-v" : "--version"), Duration.ofSeconds(10));
        return r.output().lines().findFirst().orElse(program + " ?").trim();
    }
}
