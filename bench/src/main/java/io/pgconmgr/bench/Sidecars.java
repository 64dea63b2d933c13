package io.pgconmgr.bench;

import io.pgconmgr.testkit.NetNamespace;
import io.pgconmgr.testkit.PgInstance;
import io.pgconmgr.testkit.ServerUser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * The project's own sidecars for a benchmark, started from the bin/ launchers as users run them: one
 * watchdog per PostgreSQL instance (inside the instance's namespace when it has one) and one conmgr on
 * loopback (as the test kit's unprivileged user: conmgr refuses root).
 */
final class Sidecars implements AutoCloseable {

    /** A watched instance, and where conmgr sends that instance's proxied connections (normally the instance). */
    record Member(PgInstance pg, String backendAddress, int backendPort) {
        static Member of(PgInstance pg) {
            return new Member(pg, pg.host(), pg.port());
        }
    }

    /** A running watchdog; {@code readyNanos} from exec to its first HTTP 200 on /ready. */
    record Watchdog(Process process, String address, int port, int httpPort, long readyNanos) {
        long jvmPid() {
            return jvmBelow(process.toHandle());
        }

        String metricsUrl() {
            return "http://" + address + ":" + httpPort + "/metrics";
        }
    }

    static final Path ROOT = Path.of(System.getProperty("pgconmgr.root", "")).toAbsolutePath();

    private final WorkDir dir = new WorkDir("sidecars");
    private final List<Watchdog> watchdogs = new ArrayList<>();
    private final int heartbeatInterval;
    private final int heartbeatTimeout;
    private final int checkAttrInterval;
    private final String watchdogJavaOpts;
    /** conmgr's kernel_relay_socket ({@code --kernel-relay-socket}), or null: conmgr relays itself. */
    private final String kernelRelaySocket;
    private Process conmgr;
    private int conmgrPort;
    private int conmgrHttpPort;
    private long conmgrReadyNanos;

    private Sidecars(Options o) {
        heartbeatInterval = o.integer("heartbeat-interval", 1);
        heartbeatTimeout = o.integer("heartbeat-timeout", 3);
        checkAttrInterval = o.integer("check-attr-interval", 1000);
        watchdogJavaOpts = o.string("watchdog-java-opts", null);
        kernelRelaySocket = o.string("kernel-relay-socket", null);
    }

    /** Starts the sidecars for these instances when built, else null (see {@link #missingReason()}). */
    static Sidecars startIfBuilt(List<PgInstance> instances, Options o) {
        return missingReason() == null ? start(instances.stream().map(Member::of).toList(), o) : null;
    }

    static Sidecars start(List<Member> members, Options o) {
        return start(members, o, true);
    }

    /** Watchdogs only, for benchmarks that bring their own heartbeat peers. */
    static Sidecars watchdogs(List<PgInstance> instances, Options o) {
        return start(instances.stream().map(Member::of).toList(), o, false);
    }

    private static Sidecars start(List<Member> members, Options o, boolean withConmgr) {
        Sidecars s = new Sidecars(o);
        try {
            for (Member m : members) {
                s.watchdogs.add(s.startWatchdog(m, o.integer("max-heartbeat-connections", -1)));
            }
            if (withConmgr && !members.isEmpty()) {
                s.startConmgr(members, o.string("conmgr-java-opts", null), o.string("conmgr-jar", null));
            }
            return s;
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Why the sidecar columns cannot be measured in this tree, or null. */
    static String missingReason() {
        List<String> missing = new ArrayList<>();
        for (String f : List.of("bin/conmgr", "bin/watchdog", "sidecar-conmgr/target/conmgr.jar",
                "watchdog-sidecar/target/watchdog.jar")) {
            if (!Files.isRegularFile(ROOT.resolve(f))) {
                missing.add(f);
            }
        }
        return missing.isEmpty() ? null : "not built in this tree: " + String.join(", ", missing);
    }

    private Watchdog startWatchdog(Member m, int maxSessions) {
        PgInstance pg = m.pg();
        Optional<NetNamespace> ns = pg.namespace();
        String address = ns.map(NetNamespace::hostAddress).orElse("127.0.0.1");
        int port = Net.freePort();
        int http = Net.freePort();
        String name = "watchdog-" + pg.name();
        StringBuilder conf = new StringBuilder()
                .append("watchdog.port = ").append(port).append('\n')
                .append("watchdog.http_port = ").append(http).append('\n')
                .append("watchdog.listen_address = '").append(address).append("'\n")
                .append("watchdog.check_attr_interval = ").append(checkAttrInterval).append('\n')
                .append("watchdog.state_file = '").append(dir.resolve(name + ".peers")).append("'\n")
                .append("watchdog.conninfo = 'host=").append(pg.host()).append(" port=").append(pg.port())
                .append(" user=postgres dbname=postgres'\n");
        if (maxSessions > 0) {
            conf.append("watchdog.max_heartbeat_connections = ").append(maxSessions).append('\n');
        }
        Path file = dir.write(name + ".conf", conf.toString());
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("bin/watchdog").toString(), "-c", file.toString()));
        if (watchdogJavaOpts != null) {
            cmd.addAll(0, List.of("env", "JAVA_OPTS=" + watchdogJavaOpts));
        }
        long t0 = System.nanoTime();
        Process p = ns.isPresent()
                ? Proc.track(ns.get().exec(cmd, ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile())))
                : Proc.start(cmd, dir.resolve(name + ".log"));
        awaitHttp(name, "http://" + address + ":" + http + "/ready", Duration.ofSeconds(60), p);
        return new Watchdog(p, address, port, http, System.nanoTime() - t0);
    }

    private void startConmgr(List<Member> members, String javaOpts, String jar) {
        for (int attempt = 1; ; attempt++) {
            try {
                startConmgrOnce(members, javaOpts, jar);
                return;
            } catch (IllegalStateException e) {
                // Another process may have taken a port we probed: try new ones, a few times.
                if (attempt >= 3 || !String.valueOf(e.getMessage()).contains("Address already in use")) {
                    throw e;
                }
                Proc.kill(conmgr);
            }
        }
    }

    private void startConmgrOnce(List<Member> members, String javaOpts, String jar) {
        conmgrPort = Net.freePort();
        conmgrHttpPort = Net.freePort();
        StringBuilder conf = new StringBuilder()
                .append("port = ").append(conmgrPort).append('\n')
                .append("http_port = ").append(conmgrHttpPort).append('\n')
                .append("listen_addresses = '127.0.0.1'\n")
                .append("heartbeat_interval = ").append(heartbeatInterval).append('\n')
                .append("heartbeat_timeout = ").append(heartbeatTimeout).append('\n')
                .append("heartbeat_connect_interval = 1\n")
                .append("heartbeat_connect_timeout = 2\n")
                .append("log_min_messages = WARNING\n");
        if (kernelRelaySocket != null) {
            conf.append("kernel_relay_socket = '").append(kernelRelaySocket).append("'\n");
        }
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            conf.append("backend_hostaddr").append(i).append(" = '").append(m.backendAddress()).append("'\n")
                    .append("backend_port").append(i).append(" = ").append(m.backendPort()).append('\n')
                    .append("watchdog_port").append(i).append(" = ").append(watchdogs.get(i).port()).append('\n');
        }
        Path cmdata = dir.resolve("conmgr");
        try {
            Files.createDirectories(cmdata);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Files2.writeAll(cmdata.resolve("conmgr.conf"), conf.toString());
        Files2.writeAll(dir.resolve("conmgr.out"), "");
        ServerUser.own(cmdata);
        long t0 = System.nanoTime();
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("bin/conmgr").toString(), "-D", cmdata.toString()));
        List<String> env = new ArrayList<>();
        if (javaOpts != null) {
            env.add("CONMGR_JAVA_OPTS=" + javaOpts);
        }
        if (jar != null) {
            env.add("CONMGR_JAR=" + Path.of(jar).toAbsolutePath());
        }
        if (!env.isEmpty()) {
            // the launcher reads these variables; env sets them below runuser
            cmd.addAll(0, env);
            cmd.add(0, "env");
        }
        conmgr = Proc.start(ServerUser.wrap(cmd), dir.resolve("conmgr.out"));
        awaitHttp("conmgr", "http://127.0.0.1:" + conmgrHttpPort + "/ready", Duration.ofSeconds(60), conmgr);
        conmgrReadyNanos = System.nanoTime() - t0;
    }

    private void awaitHttp(String what, String url, Duration timeout, Process p) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (Http.status(url) != 200) {
            if (!p.isAlive()) {
                throw new IllegalStateException(what + " exited with code " + p.exitValue() + ": " + tail(what));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " not ready (" + url + ") after " + timeout.toSeconds() + " s: " + tail(what));
            }
            Net.sleep(Duration.ofMillis(20));
        }
    }

    /** Copies the sidecars' warnings and errors to stderr before their logs are deleted (the last 10 of each). */
    private void reportProblems() {
        try (java.util.stream.Stream<Path> files = Files.list(dir.path())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log") || p.toString().endsWith(".out")).toList()) {
                List<String> bad = Files.readAllLines(f).stream()
                        .filter(l -> l.contains("WARN") || l.contains("ERROR") || l.contains("FATAL") || l.contains("Exception")).toList();
                if (!bad.isEmpty()) {
                    Table.progress(f.getFileName() + ": " + bad.size() + " warnings/errors, last ones:");
                    bad.subList(Math.max(0, bad.size() - 10), bad.size()).forEach(l -> Table.progress("  " + l));
                }
            }
        } catch (java.io.IOException | RuntimeException ignored) {
            // diagnostics only
        }
    }

    private String tail(String what) {
        for (String f : List.of(what + ".log", what + ".out")) {
            try {
                List<String> lines = Files.readAllLines(dir.resolve(f));
                return String.join(" / ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
            } catch (java.io.IOException ignored) {
                // try the next name
            }
        }
        return "(no log)";
    }

    /** The conmgr launcher's JVM options in force (its default unless --conmgr-java-opts was given). */
    static String conmgrJavaOpts(Options o) {
        return o.string("conmgr-java-opts", launcherDefault("bin/conmgr", "CONMGR_JAVA_OPTS"));
    }

    /** The watchdog launcher's default JVM options. */
    static String watchdogJavaOpts() {
        return launcherDefault("bin/watchdog", "JAVA_OPTS");
    }

    /**
     * The JVM flags an image sets (ENV JVM_DEFAULTS of its Dockerfile), without the image-only paths
     * (library path, temp dirs) and without the AppCDS archive, which only exists in the image; null
     * when the Dockerfile is not in this tree.
     */
    static String imageJvmFlags(String dockerfile) {
        try {
            String text = Files.readString(ROOT.resolve(dockerfile)).replace("\\\n", " ");
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("ENV JVM_DEFAULTS=\"([^\"]*)\"").matcher(text);
            if (!m.find()) {
                return null;
            }
            return java.util.Arrays.stream(m.group(1).trim().split("\\s+")).filter(f -> f.startsWith("-X"))
                    .collect(java.util.stream.Collectors.joining(" "));
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** Reads {@code ${VAR:-default}} from a launcher script, so reports show the flags actually used. */
    static String launcherDefault(String launcher, String variable) {
        try {
            String text = Files.readString(ROOT.resolve(launcher));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$\\{" + variable + ":-([^}]*)\\}").matcher(text);
            return m.find() ? m.group(1) : "(launcher default unknown)";
        } catch (java.io.IOException e) {
            return "(no " + launcher + ")";
        }
    }

    int conmgrPort() {
        return conmgrPort;
    }

    /** conmgr's heartbeat settings, as its conmgr.conf has them. */
    String heartbeatTiming() {
        return "interval " + heartbeatInterval + " s, timeout " + heartbeatTimeout + " s";
    }

    String conmgrMetricsUrl() {
        return "http://127.0.0.1:" + conmgrHttpPort + "/metrics";
    }

    /** The lines of conmgr's log so far that match {@code regex} (found anywhere in the line). */
    List<String> conmgrLog(String regex) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        try {
            return Files.readAllLines(dir.resolve("conmgr.out")).stream().filter(l -> p.matcher(l).find()).toList();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    long conmgrPid() {
        return conmgr.pid();
    }

    /** The conmgr JVM itself (for jcmd), below the runuser wrapper. */
    long conmgrJvmPid() {
        return jvmBelow(conmgr.toHandle());
    }

    Duration conmgrReady() {
        return Duration.ofNanos(conmgrReadyNanos);
    }

    List<Watchdog> watchdogs() {
        return watchdogs;
    }

    static long jvmBelow(ProcessHandle h) {
        if (h.info().command().map(c -> c.endsWith("/java")).orElse(false)) {
            return h.pid();
        }
        return h.descendants().filter(d -> d.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().map(ProcessHandle::pid).orElse(h.pid());
    }

    String describe() {
        return "heartbeat_interval " + heartbeatInterval + " s, heartbeat_timeout " + heartbeatTimeout
                + " s, check_attr_interval " + checkAttrInterval + " ms";
    }

    /** The conmgr clients of the failure-detection benchmark: libpq through the proxy, and an aware PgJDBC client. */
    List<InFlight> detectionClients(String prefix) {
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        return List.of(
                InFlight.psql("conmgr proxy mode, libpq (psql) defaults", describe(),
                        "host=127.0.0.1 port=" + conmgrPort + " user=postgres dbname=postgres", prefix + "conmgr_proxy"),
                InFlight.aware("conmgr aware client, PgJDBC defaults", describe() + "; failure notice on the conmgr socket",
                        "127.0.0.1", conmgrPort, "postgres", props, prefix + "conmgr_aware"));
    }

    @Override
    public void close() {
        if (conmgr != null) {
            conmgr.destroy(); // SIGTERM: a clean stop says goodbye to the watchdogs
            try {
                conmgr.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Proc.kill(conmgr);
        }
        for (Watchdog w : watchdogs) {
            Proc.kill(w.process());
        }
        reportProblems();
        dir.close();
    }
}
