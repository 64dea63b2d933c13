package io.pgconmgr.watchdog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * The local instance's address in libpq {@code key=value} form ({@code watchdog.conninfo}),
 * mapped to a PgJDBC URL and properties. Only keywords PgJDBC can honour are accepted.
 */
public final class ConnInfo {
  private static final Set<String> KEYWORDS = Set.of("host", "hostaddr", "port", "user", "dbname",
      "password", "passfile", "sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout");
  private static final Set<String> SSL_MODES = Set.of("disable", "allow", "prefer", "require",
      "verify-ca", "verify-full");

  private final Map<String, String> values;

  private ConnInfo(Map<String, String> values) {
    this.values = values;
  }

  /**
   * Parses libpq's keyword/value form: {@code key = value} pairs separated by white space, values
   * in single quotes when they hold spaces, backslash escaping a quote or a backslash.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static ConnInfo parse(String text) {
    Map<String, String> values = new LinkedHashMap<>();
    int i = 0;
    int n = text.length();
    while (true) {
      while (i < n && Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      if (i == n) {
        break;
      }
      int keyStart = i;
      while (i < n && text.charAt(i) != '=' && !Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      String key = text.substring(keyStart, i);
      while (i < n && Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      if (i == n || text.charAt(i) != '=') {
        throw new IllegalArgumentException("missing \"=\" after \"" + key + "\" in conninfo");
      }
      i++;
      while (i < n && Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      StringBuilder value = new StringBuilder();
      if (i < n && text.charAt(i) == '\'') {
        i++;
        boolean closed = false;
        while (i < n) {
          char c = text.charAt(i++);
          if (c == '\\' && i < n) {
            value.append(text.charAt(i++));
          } else if (c == '\'') {
            closed = true;
            break;
          } else {
            value.append(c);
          }
        }
        if (!closed) {
          throw new IllegalArgumentException("unterminated quoted value of \"" + key
              + "\" in conninfo");
        }
      } else {
        while (i < n && !Character.isWhitespace(text.charAt(i))) {
          char c = text.charAt(i++);
          value.append(c == '\\' && i < n ? text.charAt(i++) : c);
        }
      }
      if (!KEYWORDS.contains(key)) {
        throw new IllegalArgumentException("conninfo keyword \"" + key + "\" is not supported"
            + " (supported: " + String.join(", ", KEYWORDS.stream().sorted().toList()) + ")");
      }
      values.put(key, value.toString());
    }
    ConnInfo info = new ConnInfo(values);
    info.validate();
    return info;
  }

  private void validate() {
    String host = get("host").orElse("");
    if (host.contains(",") || get("hostaddr").orElse("").contains(",")) {
      throw new IllegalArgumentException("conninfo names several hosts; the watchdog watches"
          + " exactly one local instance");
    }
    if (host.startsWith("/") && get("hostaddr").isEmpty()) {
      throw new IllegalArgumentException("conninfo host \"" + host + "\" is a Unix-domain socket"
          + " directory, which PgJDBC cannot use; use host=127.0.0.1 (or the pod IP)");
    }
    int port = port();
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("conninfo port must be between 1 and 65535");
    }
    get("sslmode").ifPresent(mode -> {
      if (!SSL_MODES.contains(mode)) {
        throw new IllegalArgumentException("conninfo sslmode \"" + mode + "\" is invalid"
            + " (one of " + String.join(", ", SSL_MODES.stream().sorted().toList()) + ")");
      }
    });
    get("connect_timeout").ifPresent(v -> parseInt("connect_timeout", v));
  }

  private static int parseInt(String key, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("conninfo " + key + " \"" + value
          + "\" is not an integer");
    }
  }

  Optional<String> get(String key) {
    return Optional.ofNullable(values.get(key)).filter(v -> !v.isEmpty());
  }

  /** Address to connect to: {@code hostaddr} wins over {@code host}, as in libpq. */
  public String connectHost() {
    return get("hostaddr").or(() -> get("host").filter(h -> !h.startsWith("/")))
        .orElse("localhost");
  }

  /** Host name used to look up a password file entry (libpq matches the host, not hostaddr). */
  private String passfileHost() {
    return get("host").filter(h -> !h.startsWith("/")).or(() -> get("hostaddr"))
        .orElse("localhost");
  }

  public int port() {
    return get("port").map(v -> parseInt("port", v)).orElse(5432);
  }

  public String user() {
    return get("user").orElse(System.getProperty("user.name"));
  }

  public String dbname() {
    return get("dbname").orElse(user());
  }

  /** JDBC URL of the instance (no properties in it: credentials stay out of logs). */
  public String jdbcUrl() {
    String host = connectHost();
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return "jdbc:postgresql://" + host + ":" + port() + "/" + dbname();
  }

  /**
   * Opens one of the watchdog's connections. The checker's sits idle between checks and the
   * terminator's until a peer is lost, so each turns a server-wide idle_session_timeout off for
   * itself (it would end them again and again). A statement, not the startup option: PostgreSQL
   * 13 and older lack the setting and would refuse the connection.
   */
  public Connection open(String applicationName, int timeoutSeconds) throws SQLException {
    Connection c = DriverManager.getConnection(jdbcUrl(), jdbcProperties(applicationName, timeoutSeconds));
    try (Statement st = c.createStatement()) {
      st.execute("SELECT set_config('idle_session_timeout', '0', false)"
          + " WHERE current_setting('server_version_num')::int >= 140000");
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** PgJDBC properties for one of the watchdog's connections. */
  public Properties jdbcProperties(String applicationName, int timeoutSeconds) {
    Properties p = new Properties();
    p.setProperty("user", user());
    password().ifPresent(pw -> p.setProperty("password", pw));
    p.setProperty("ApplicationName", applicationName);
    p.setProperty("connectTimeout", get("connect_timeout").orElse(String.valueOf(timeoutSeconds)));
    p.setProperty("loginTimeout", String.valueOf(timeoutSeconds));
    // A frozen instance must not hang a check forever.
    p.setProperty("socketTimeout", String.valueOf(timeoutSeconds));
    p.setProperty("cancelSignalTimeout", String.valueOf(timeoutSeconds));
    p.setProperty("tcpKeepAlive", "true");
    get("sslmode").ifPresent(v -> p.setProperty("sslmode", v));
    get("sslrootcert").ifPresent(v -> p.setProperty("sslrootcert", v));
    get("sslcert").ifPresent(v -> p.setProperty("sslcert", v));
    get("sslkey").ifPresent(v -> p.setProperty("sslkey", v));
    return p;
  }

  /** {@code password}, else a matching line of {@code passfile} (default {@code ~/.pgpass}). */
  Optional<String> password() {
    Optional<String> given = get("password");
    if (given.isPresent()) {
      return given;
    }
    Path file = get("passfile").map(Path::of)
        .or(() -> Optional.ofNullable(System.getenv("PGPASSFILE")).map(Path::of))
        .orElse(Path.of(System.getProperty("user.home"), ".pgpass"));
    if (!Files.isReadable(file)) {
      return Optional.empty();
    }
    try {
      return lookupPassword(Files.readAllLines(file), passfileHost(), port(), dbname(), user());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read password file " + file + ": " + e.getMessage(),
          e);
    }
  }

  /** First {@code hostname:port:database:username:password} line matching; {@code *} matches all. */
  static Optional<String> lookupPassword(List<String> lines, String host, int port, String db,
      String user) {
    for (String line : lines) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      List<String> fields = splitPassLine(line);
      if (fields.size() < 5) {
        continue;
      }
      if (matches(fields.get(0), host) && matches(fields.get(1), String.valueOf(port))
          && matches(fields.get(2), db) && matches(fields.get(3), user)) {
        return Optional.of(fields.get(4));
      }
    }
    return Optional.empty();
  }

  private static boolean matches(String pattern, String value) {
    return pattern.equals("*") || pattern.equals(value);
  }

  private static List<String> splitPassLine(String line) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '\\' && i + 1 < line.length()) {
        field.append(line.charAt(++i));
      } else if (c == ':' && fields.size() < 4) {
        fields.add(field.toString());
        field.setLength(0);
      } else {
        field.append(c);
      }
    }
    fields.add(field.toString());
    return fields;
  }

  /** The conninfo without its password, for logs. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    values.forEach((k, v) -> {
      if (!k.equals("password")) {
        sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(v);
      }
    });
    return sb.toString();
  }
}
