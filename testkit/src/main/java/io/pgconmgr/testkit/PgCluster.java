package io.pgconmgr.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL primary with streaming standbys on free loopback ports (or inside network
 * namespaces), in a temp directory that {@link #close()} deletes.
 */
public final class PgCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PgCluster.class);

    private final Path baseDir;
    private final PgInstance primary;
    private final List<PgInstance> standbys;
    private final String namePrefix;
    private final List<String> rootListenAddresses;
    private final String listenAddress;
    private volatile boolean closed;

    private PgCluster(Path baseDir, PgInstance primary, List<PgInstance> standbys, String namePrefix,
                      String listenAddress, List<String> rootListenAddresses) {
        this.baseDir = baseDir;
        this.primary = primary;
        this.standbys = new CopyOnWriteArrayList<>(standbys);
        this.namePrefix = namePrefix;
        this.listenAddress = listenAddress;
        this.rootListenAddresses = List.copyOf(rootListenAddresses);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The instance created as primary (after a failover it may be a dead or a promoted one: check). */
    public PgInstance primary() {
        return primary;
    }

    /** Standbys in creation order, including those added by {@link #addStandby()}. */
    public List<PgInstance> standbys() {
        return List.copyOf(standbys);
    }

    /** The running instance that is not in recovery (after a promotion, the promoted one). */
    public PgInstance currentPrimary() {
        return instances().stream().filter(i -> i.isRunning() && !i.isFrozen()).filter(i -> {
            try {
                return !i.isInRecovery();
            } catch (RuntimeException e) {
                return false;
            }
        }).findFirst().orElseThrow(() -> new IllegalStateException("no running primary in " + instances()));
    }

    /**
     * Adds a standby (root namespace) made from an online copy of the current primary and waits
     * until it streams.
     */
    public synchronized PgInstance addStandby() {
        String name = namePrefix + "-standby" + (standbys.size() + 1);
        Path sock = baseDir.resolve(name + ".sock");
        try {
            Files.createDirectories(sock);
        } catch (IOException e) {
            throw Cmd.unchecked(e);
        }
        ServerUser.own(sock);
        PgInstance s = new PgInstance(name, baseDir.resolve(name), sock, listenAddress, rootListenAddresses,
                freePort(), null);
        standbys.add(s);
        s.rebuildAsStandbyOf(currentPrimary());
        return s;
    }

    public PgInstance standby(int index) {
        return standbys.get(index);
    }

    /** Primary first, then standbys. */
    public List<PgInstance> instances() {
        List<PgInstance> all = new ArrayList<>();
        all.add(primary);
        all.addAll(standbys);
        return all;
    }

    /** Directory holding every data directory and socket directory of this cluster. */
    public Path baseDir() {
        return baseDir;
    }

    /** Directory of the PostgreSQL programs (initdb, pg_ctl, postgres). */
    public static Path binDir() {
        return PostgresBinaries.binDir();
    }

    /** Waits until every running standby reports a streaming WAL receiver. */
    public void awaitStreaming(Duration timeout) {
        for (PgInstance s : standbys) {
            if (s.isRunning()) {
                PgInstance.await(s.name() + " streaming from the primary", timeout, () ->
                        "streaming".equals(s.queryScalar("select status from pg_stat_wal_receiver")));
            }
        }
    }

    /** Stops every instance and deletes the directory. Never throws. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (PgInstance i : instances()) {
            i.shutdownQuietly();
        }
        Files2.deleteTree(baseDir);
        Leftovers.done(this);
    }

    /** Cluster settings; {@link #start()} builds and starts it. */
    public static final class Builder {
        private int standbys;
        private String listenAddress = "127.0.0.1";
        private final List<String> conf = new ArrayList<>();
        private final List<String> hba = new ArrayList<>();
        private final Map<Integer, NetNamespace> namespaces = new HashMap<>();
        private boolean ssl;
        private String namePrefix = "pg";

        private Builder() {
        }

        public Builder standbys(int count) {
            this.standbys = count;
            return this;
        }

        /** Loopback address root-namespace instances listen on (default 127.0.0.1). */
        public Builder listenAddress(String address) {
            this.listenAddress = address;
            return this;
        }

        /** Extra postgresql.conf lines for every instance, e.g. "shared_preload_libraries = 'x'". */
        public Builder conf(String... lines) {
            conf.addAll(List.of(lines));
            return this;
        }

        /**
         * pg_hba.conf lines placed before initdb's trust rules, so they win for what they match,
         * e.g. "host all scramuser 127.0.0.1/32 scram-sha-256".
         */
        public Builder hba(String... lines) {
            hba.addAll(List.of(lines));
            return this;
        }

        /** Enables TLS with a self-signed certificate made by openssl (CN=localhost). */
        public Builder ssl() {
            this.ssl = true;
            return this;
        }

        /** Prefix of instance names (default "pg": pg-primary, pg-standby1...). */
        public Builder namePrefix(String prefix) {
            this.namePrefix = prefix;
            return this;
        }

        /** Runs the primary inside a namespace, listening on its host address. */
        public Builder primaryIn(NetNamespace ns) {
            namespaces.put(0, ns);
            return this;
        }

        /** Runs standby {@code index} (0-based) inside a namespace, listening on its host address. */
        public Builder standbyIn(int index, NetNamespace ns) {
            namespaces.put(index + 1, ns);
            return this;
        }

        /** Creates the data directories, starts the primary and the standbys, waits for streaming. */
        public PgCluster start() {
            long t0 = System.nanoTime();
            Path base = createBaseDir();
            List<PgInstance> members = new ArrayList<>();
            // Root-namespace members also listen where namespaced members come from, to be reachable.
            Set<String> rootAddrs = new LinkedHashSet<>(List.of(listenAddress));
            namespaces.values().forEach(n -> rootAddrs.add(n.peerAddress()));
            List<String> rootListen = List.copyOf(rootAddrs);
            PgCluster cluster = null;
            try {
                for (int i = 0; i <= standbys; i++) {
                    String name = namePrefix + "-" + (i == 0 ? "primary" : "standby" + i);
                    NetNamespace ns = namespaces.get(i);
                    List<String> listen = ns == null ? rootListen : List.of(ns.hostAddress());
                    Path sock = base.resolve(name + ".sock");
                    Files.createDirectories(sock);
                    members.add(new PgInstance(name, base.resolve(name), sock,
                            ns == null ? listenAddress : ns.hostAddress(), listen, freePort(), ns));
                }
                PgInstance primary = members.get(0);
                cluster = new PgCluster(base, primary, members.subList(1, members.size()), namePrefix, listenAddress,
                        rootListen);
                Leftovers.register(cluster, cluster::close);
                initPrimary(primary, base);
                for (PgInstance s : cluster.standbys) {
                    // initdb leaves a cleanly shut down cluster: a cold copy is a valid base backup.
                    Cmd.run(List.of("cp", "-a", primary.dataDir().toString(), s.dataDir().toString()));
                    Files.deleteIfExists(s.dataDir().resolve("postgresql.log"));
                    Files.writeString(s.dataDir().resolve("standby.signal"), "");
                    ServerUser.own(s.dataDir().resolve("standby.signal"));
                    s.setPrimaryConninfo(s.conninfoToReach(primary));
                    s.writeInstanceConf();
                }
                ServerUser.own(base);
                startWithPortRetry(primary);
                for (PgInstance s : cluster.standbys) {
                    startWithPortRetry(s);
                }
                cluster.awaitStreaming(Duration.ofSeconds(90));
                LOG.info("PostgreSQL {} cluster {} up in {} ms", PostgresBinaries.VERSION, cluster.instances(),
                        (System.nanoTime() - t0) / 1_000_000);
                return cluster;
            } catch (IOException | RuntimeException e) {
                if (cluster != null) {
                    cluster.close();
                } else {
                    Files2.deleteTree(base);
                }
                throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
            }
        }

        private void initPrimary(PgInstance primary, Path base) throws IOException {
            ServerUser.own(base);
            String locale = hasCUtf8() ? "C.UTF-8" : "C";
            List<String> initdb = List.of(PostgresBinaries.bin("initdb").toString(), "-D", primary.dataDir().toString(),
                    "-U", PgInstance.SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=" + locale, "--no-sync");
            Cmd.run(ServerUser.wrap(initdb));
            List<String> settings = new ArrayList<>(List.of(
                    "",
                    "# pgconmgr test kit",
                    "wal_level = replica",
                    "max_wal_senders = 10",
                    "max_replication_slots = 10",
                    "wal_keep_size = '256MB'",
                    "hot_standby = on",
                    "hot_standby_feedback = on",
                    // fsync off only loses data on an OS crash; a SIGKILLed server still recovers every commit.
                    "fsync = off",
                    "shared_buffers = '32MB'",
                    "max_connections = 100",
                    "wal_receiver_status_interval = '1s'",
                    "log_line_prefix = '%m [%p] %q%u@%d '",
                    "log_connections = off"));
            if (ssl) {
                makeSelfSignedCert(primary.dataDir());
                settings.addAll(List.of("ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"));
            }
            settings.addAll(conf);
            settings.add("include_if_exists = '" + PgInstance.INSTANCE_CONF + "'");
            PgInstance.appendLines(primary.dataDir().resolve("postgresql.conf"), settings);
            // initdb --auth=trust already trusts 127.0.0.1 for all and for replication; add the test hosts.
            Path hbaFile = primary.dataDir().resolve("pg_hba.conf");
            PgInstance.appendLines(hbaFile, List.of(
                    "host all all 198.18.0.0/15 trust",
                    "host replication all 198.18.0.0/15 trust"));
            if (!hba.isEmpty()) {
                // First match wins in pg_hba.conf: the caller's rules go above every trust rule.
                List<String> lines = new ArrayList<>(List.of("# pgconmgr test kit: Builder.hba()"));
                lines.addAll(hba);
                lines.addAll(Files.readAllLines(hbaFile, StandardCharsets.UTF_8));
                Files.write(hbaFile, lines, StandardCharsets.UTF_8);
            }
            primary.writeInstanceConf();
        }

        private static void startWithPortRetry(PgInstance instance) {
            for (int attempt = 1; ; attempt++) {
                try {
                    instance.start();
                    return;
                } catch (IllegalStateException e) {
                    // Another JVM may have grabbed the port we probed: pick a new one, a few times.
                    if (attempt >= 3 || !instance.logTail(20).contains("could not bind")) {
                        throw e;
                    }
                    instance.setPort(freePort());
                    instance.writeInstanceConf();
                }
            }
        }

        private static void makeSelfSignedCert(Path dataDir) {
            if (!Cmd.onPath("openssl")) {
                throw new IllegalStateException("ssl() needs openssl on the PATH (apt-get install openssl)");
            }
            Path crt = dataDir.resolve("server.crt");
            Path key = dataDir.resolve("server.key");
            Cmd.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key.toString(), "-out", crt.toString()));
            try {
                java.nio.file.Files.setPosixFilePermissions(key, PostgresBinaries.perms(0600));
            } catch (IOException e) {
                throw Cmd.unchecked(e);
            }
            ServerUser.own(crt);
            ServerUser.own(key);
        }

        private static boolean hasCUtf8() {
            Cmd.Result r = Cmd.exec(List.of("locale", "-a"), Duration.ofSeconds(10));
            return r.ok() && r.output().lines().anyMatch(l -> l.equalsIgnoreCase("C.utf8") || l.equalsIgnoreCase("C.UTF-8"));
        }

        private Path createBaseDir() {
            try {
                // Under /tmp, not java.io.tmpdir: /root is 0700 and the server user must reach its files.
                Path base = Files.createTempDirectory(Path.of("/tmp"), "pgconmgr-cluster-");
                Files.setPosixFilePermissions(base, PostgresBinaries.perms(0755));
                return base;
            } catch (IOException e) {
                throw Cmd.unchecked(e);
            }
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw Cmd.unchecked(e);
        }
    }
}
