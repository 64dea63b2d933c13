package io.pgconmgr.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A client with a long query in flight ({@code select pg_sleep(3600)}), whose backend is tagged with
 * {@code application_name} so the server side can be watched; records when and how the client gave up.
 */
abstract class InFlight implements AutoCloseable {

    static final String SLEEP = "select pg_sleep(3600)";

    final String label;
    final String settings;
    final String appName;
    private volatile long failedAt;
    private volatile String failure = "";

    InFlight(String label, String settings, String appName) {
        this.label = label;
        this.settings = settings;
        this.appName = appName;
    }

    abstract void start();

    /** Kills the client; never throws (it may be hanging on a dead link). */
    @Override
    public abstract void close();

    final void failed(String message) {
        failure = message == null ? "" : message.replace('\n', ' ').replace('|', '/').trim();
        failedAt = System.nanoTime();
    }

    /** nanoTime when the client saw its query fail, or 0 while it still waits. */
    long failedAt() {
        return failedAt;
    }

    String failure() {
        return failure;
    }

    /** libpq through psql: the error reaches the user when psql exits. */
    static InFlight psql(String label, String settings, String conninfo, String appName) {
        return new InFlight(label, settings, appName) {
            private Process process;

            @Override
            void start() {
                List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        conninfo + " application_name=" + appName, "-c", SLEEP));
                try {
                    process = Proc.track(new ProcessBuilder(cmd).redirectErrorStream(true).start());
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("cannot start psql: " + e.getMessage(), e);
                }
                Thread t = new Thread(() -> {
                    try {
                        String out = new String(process.getInputStream().readAllBytes());
                        process.waitFor();
                        failed(out.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("exit " + process.exitValue()));
                    } catch (java.io.IOException | InterruptedException e) {
                        failed(e.toString());
                    }
                }, "inflight-" + appName);
                t.setDaemon(true);
                t.start();
            }

            @Override
            public void close() {
                Proc.kill(process);
            }
        };
    }

    /** A copy of the connection properties naming the client, so its backend can be found. */
    private static Properties withApplicationName(Properties props, String appName) {
        Properties p = new Properties();
        p.putAll(props);
        p.setProperty("ApplicationName", appName);
        return p;
    }

    /** PgJDBC: the error reaches the application as an SQLException from execute(). */
    static InFlight jdbc(String label, String settings, String url, Properties props, String appName) {
        return new InFlight(label, settings, appName) {
            private volatile Connection connection;

            @Override
            void start() {
                Properties p = withApplicationName(props, appName);
                try {
                    connection = DriverManager.getConnection(url, p);
                } catch (SQLException e) {
                    throw new IllegalStateException(label + ": cannot connect: " + e.getMessage(), e);
                }
                Thread t = new Thread(() -> {
                    try (Statement st = connection.createStatement()) {
                        st.execute(SLEEP);
                        failed("query returned");
                    } catch (SQLException e) {
                        failed(e.getMessage());
                    }
                }, "inflight-" + appName);
                t.setDaemon(true);
                t.start();
            }

            @Override
            public void close() {
                // abort() does not wait for the server, which may be unreachable.
                try {
                    if (connection != null) {
                        connection.abort(Runnable::run);
                    }
                } catch (SQLException ignored) {
                    // closing a broken connection
                }
            }
        };
    }

    /** An aware client (conmgr tells it where to connect, then warns it on its own socket) running PgJDBC. */
    static InFlight aware(String label, String settings, String conmgrHost, int conmgrPort, String database,
                          Properties props, String appName) {
        return new InFlight(label, settings, appName) {
            private volatile AwareClient client;

            @Override
            void start() {
                Properties p = withApplicationName(props, appName);
                try {
                    client = AwareClient.connect(conmgrHost, conmgrPort, "read-write", database, p);
                } catch (java.io.IOException | SQLException e) {
                    throw new IllegalStateException(label + ": cannot connect: " + e.getMessage(), e);
                }
                Thread t = new Thread(() -> {
                    try (Statement st = client.connection().createStatement()) {
                        st.execute(SLEEP);
                        failed("query returned");
                    } catch (SQLException e) {
                        failed(client.notice() != null ? client.notice() : e.getMessage());
                    }
                }, "inflight-" + appName);
                t.setDaemon(true);
                t.start();
            }

            @Override
            public void close() {
                if (client != null) {
                    client.close();
                }
            }
        };
    }
}
