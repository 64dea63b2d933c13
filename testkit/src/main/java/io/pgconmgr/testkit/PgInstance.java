package io.pgconmgr.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * One real PostgreSQL server (a primary or a streaming standby) with the faults tests need:
 * clean stop, SIGKILL, SIGSTOP/SIGCONT of the whole process tree, promotion.
 */
public final class PgInstance {

    /** Superuser created by initdb; trust authentication, no password. */
    public static final String SUPERUSER = "postgres";
    static final String INSTANCE_CONF = "pgconmgr-instance.conf";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final String name;
    private final Path dataDir;
    private final Path socketDir;
    private final String host;
    private final List<String> listenAddresses;
    private final NetNamespace namespace;
    private volatile int port;
    private volatile boolean frozen;
    private volatile String primaryConninfo;

    PgInstance(String name, Path dataDir, Path socketDir, String host, List<String> listenAddresses,
               int port, NetNamespace namespace) {
        this.name = name;
        this.dataDir = dataDir;
        this.socketDir = socketDir;
        this.host = host;
        this.listenAddresses = List.copyOf(listenAddresses);
        this.port = port;
        this.namespace = namespace;
    }

    public String name() {
        return name;
    }

    /** Address clients in the root namespace use (the namespace's host address for an instance inside one). */
    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Server log (stderr of the postmaster). */
    public Path logFile() {
        return dataDir.resolve("postgresql.log");
    }

    /** Directory holding the server's unix socket. */
    public Path socketDir() {
        return socketDir;
    }

    /** The network namespace the server runs in, if any. */
    public Optional<NetNamespace> namespace() {
        return Optional.ofNullable(namespace);
    }

    /** JDBC URL with the superuser set; append more parameters with '&amp;'. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database + "?user=" + SUPERUSER;
    }

    public String jdbcUrl() {
        return jdbcUrl("postgres");
    }

    /** libpq-style connection string, e.g. for psql or primary_conninfo. */
    public String conninfo(String database) {
        return "host=" + host + " port=" + port + " dbname=" + database + " user=" + SUPERUSER;
    }

    public Connection connect() throws SQLException {
        return connect("postgres", new Properties());
    }

    /** Connects with extra PgJDBC properties, e.g. socketTimeout or connectTimeout (seconds). */
    public Connection connect(String database, Properties props) throws SQLException {
        Properties p = new Properties();
        p.putAll(props);
        p.putIfAbsent("connectTimeout", "10");
        return DriverManager.getConnection(jdbcUrl(database), p);
    }

    /** First column of the first row as text, or null when there is no row. */
    public String queryScalar(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(name + ": " + sql + ": " + e.getMessage(), e);
        }
    }

    /** All rows, each as text columns. */
    public List<List<String>> query(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            List<List<String>> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> row = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException(name + ": " + sql + ": " + e.getMessage(), e);
        }
    }

    public void execute(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(name + ": " + sql + ": " + e.getMessage(), e);
        }
    }

    public boolean isInRecovery() {
        return "t".equals(queryScalar("select case when pg_is_in_recovery() then 't' else 'f' end"));
    }

    /** Promotes a standby and returns once it accepts writes. */
    public void promote() {
        pgCtl(List.of("promote", "-w", "-t", "60")).orThrow();
        await("promotion of " + name, Duration.ofSeconds(60), () -> !isInRecovery());
    }

    /** Starts the server and waits until it accepts connections. */
    public void start() {
        if (isRunning()) {
            return;
        }
        Cmd.Result r = pgCtl(List.of("start", "-w", "-t", String.valueOf(START_TIMEOUT.toSeconds()),
                "-l", logFile().toString()));
        if (!r.ok()) {
            throw new IllegalStateException("cannot start " + name + ": " + r.output().strip() + "\n--- " + logFile()
                    + " (tail) ---\n" + logTail(30));
        }
        frozen = false;
        Leftovers.register(this, this::emergencyKill);
    }

    /** Clean shutdown (fast mode: sessions are terminated, a shutdown checkpoint is written). */
    public void stop() {
        if (frozen) {
            thaw();
        }
        if (isRunning()) {
            pgCtl(List.of("stop", "-w", "-m", "fast", "-t", "60")).orThrow();
        }
        Leftovers.done(this);
    }

    public void restart() {
        stop();
        start();
    }

    /** Rereads the configuration files (pg_ctl reload). */
    public void reload() {
        pgCtl(List.of("reload")).orThrow();
    }

    /**
     * SIGKILL of the postmaster and every child, like a host crash: nothing is flushed, clients see
     * their connections reset. {@link #start()} runs crash recovery.
     */
    public void kill9() {
        List<Long> pids = processTree();
        signal("KILL", pids);
        await(name + " processes to die after SIGKILL", Duration.ofSeconds(30),
                () -> pids.stream().noneMatch(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)));
        frozen = false;
        Leftovers.done(this);
    }

    /**
     * SIGSTOP of the postmaster and all its children: the server keeps its sockets open but answers
     * nothing, which is what a hung host looks like from a client.
     */
    public void freeze() {
        long pm = pid();
        // Stop the postmaster first so it cannot fork new children while we walk the tree.
        signal("STOP", List.of(pm));
        signal("STOP", descendants(pm));
        frozen = true;
    }

    /** SIGCONT of everything {@link #freeze()} stopped. */
    public void thaw() {
        long pm = pid();
        List<Long> all = new ArrayList<>(descendants(pm));
        all.add(pm);
        signal("CONT", all);
        frozen = false;
    }

    public boolean isFrozen() {
        return frozen;
    }

    /** True when the postmaster named in postmaster.pid is alive. */
    public boolean isRunning() {
        return readPid().flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false);
    }

    /** PID of the postmaster. */
    public long pid() {
        return readPid().filter(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false))
                .orElseThrow(() -> new IllegalStateException(name + " is not running"));
    }

    /** Appends lines to postgresql.conf; call {@link #reload()} or {@link #restart()} to apply. */
    public void appendConf(String... lines) {
        appendLines(dataDir.resolve("postgresql.conf"), List.of(lines));
    }

    /** Last lines of the server log, for failure messages. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
            return all.subList(Math.max(0, all.size() - lines), all.size()).stream().collect(Collectors.joining("\n"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return name + "@" + host + ":" + port;
    }

    // --- internals used by PgCluster ---

    List<String> listenAddresses() {
        return listenAddresses;
    }

    /** Standby only: streams from {@code newPrimary} from now on (rewrites primary_conninfo and reloads). */
    public void follow(PgInstance newPrimary) {
        if (!Files.exists(dataDir.resolve("standby.signal"))) {
            throw new IllegalStateException(name + " is not a standby (no standby.signal)");
        }
        primaryConninfo = conninfoToReach(newPrimary);
        writeInstanceConf();
        if (isRunning()) {
            reload();
        }
    }

    /**
     * Replaces this instance's data with an online copy of {@code primary} (between pg_backup_start
     * and pg_backup_stop) and starts it as a standby of it; e.g. to bring a failed old primary back.
     */
    public void rebuildAsStandbyOf(PgInstance primary) {
        if (isRunning()) {
            shutdownQuietly();
        }
        Files2.deleteTree(dataDir);
        OnlineCopy.copy(primary, dataDir);
        try {
            Files.writeString(dataDir.resolve("standby.signal"), "");
        } catch (IOException e) {
            throw Cmd.unchecked(e);
        }
        primaryConninfo = conninfoToReach(primary);
        writeInstanceConf();
        ServerUser.own(dataDir);
        start();
        await(name + " streaming from " + primary.name(), Duration.ofSeconds(90),
                () -> "streaming".equals(queryScalar("select status from pg_stat_wal_receiver")));
    }

    /** primary_conninfo for this instance to reach {@code primary}, across a namespace boundary if needed. */
    String conninfoToReach(PgInstance primary) {
        String h = primary.namespace == null && namespace != null ? namespace.peerAddress() : primary.host;
        return "host=" + h + " port=" + primary.port + " user=" + SUPERUSER;
    }

    void setPrimaryConninfo(String conninfo) {
        this.primaryConninfo = conninfo;
    }

    void writeInstanceConf() {
        List<String> lines = new ArrayList<>(List.of(
                "# written by the pgconmgr test kit for " + name,
                "port = " + port,
                "listen_addresses = '" + String.join(",", listenAddresses) + "'",
                "unix_socket_directories = '" + socketDir + "'",
                "cluster_name = '" + name + "'"));
        if (primaryConninfo != null) {
            lines.add("primary_conninfo = '" + primaryConninfo + " application_name=" + name + "'");
        }
        Path f = dataDir.resolve(INSTANCE_CONF);
        try {
            Files.write(f, lines, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw Cmd.unchecked(e);
        }
        ServerUser.own(f);
    }

    void setPort(int newPort) {
        this.port = newPort;
    }

    /** Close path: never throws, thaws first so a frozen server can shut down. */
    void shutdownQuietly() {
        try {
            if (isRunning()) {
                if (frozen) {
                    thaw();
                }
                Cmd.Result r = pgCtl(List.of("stop", "-w", "-m", "immediate", "-t", "30"));
                if (!r.ok() && isRunning()) {
                    kill9();
                }
            }
        } catch (RuntimeException e) {
            emergencyKill();
        }
        Leftovers.done(this);
    }

    private void emergencyKill() {
        try {
            List<Long> pids = processTree();
            signal("CONT", pids);
            signal("KILL", pids);
        } catch (RuntimeException ignored) {
            // not running
        }
    }

    private Cmd.Result pgCtl(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(PostgresBinaries.bin("pg_ctl").toString()));
        cmd.addAll(args);
        cmd.addAll(List.of("-D", dataDir.toString()));
        List<String> asUser = ServerUser.wrap(cmd);
        return Cmd.exec(namespace == null ? asUser : namespace.wrap(asUser), START_TIMEOUT.plusSeconds(30));
    }

    private Optional<Long> readPid() {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private List<Long> processTree() {
        long pm = pid();
        List<Long> all = new ArrayList<>();
        all.add(pm);
        all.addAll(descendants(pm));
        return all;
    }

    private static List<Long> descendants(long pid) {
        return ProcessHandle.of(pid).stream().flatMap(ProcessHandle::descendants).map(ProcessHandle::pid)
                .collect(Collectors.toList());
    }

    private static void signal(String sig, List<Long> pids) {
        if (pids.isEmpty()) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("kill", "-" + sig));
        pids.forEach(p -> cmd.add(String.valueOf(p)));
        // A child may exit between listing and signalling: ignore "no such process".
        Cmd.exec(cmd, Duration.ofSeconds(10));
    }

    static void appendLines(Path file, List<String> lines) {
        try {
            Files.write(file, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw Cmd.unchecked(e);
        }
    }

    static void await(String what, Duration timeout, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e;
            }
            Cmd.sleep(Duration.ofMillis(50));
        }
        throw new IllegalStateException("timed out after " + timeout + " waiting for " + what
                + (last == null ? "" : " (last error: " + last.getMessage() + ")"), last);
    }
}
