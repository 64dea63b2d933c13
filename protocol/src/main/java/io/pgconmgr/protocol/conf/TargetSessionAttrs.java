package io.pgconmgr.protocol.conf;

import java.util.Locale;
import java.util.Optional;

/**
 * Which instance a client wants, with libpq's {@code target_session_attrs} semantics. PgJDBC's
 * {@code targetServerType} names are accepted as aliases.
 */
public enum TargetSessionAttrs {
  /** Any reachable instance. */
  ANY("any"),
  /** An instance that accepts writes: not in recovery and not default_transaction_read_only. */
  READ_WRITE("read-write"),
  /** An instance that does not accept writes (a standby or a read-only primary). */
  READ_ONLY("read-only"),
  /** The instance that is not in recovery. */
  PRIMARY("primary"),
  /** An instance in recovery. */
  STANDBY("standby"),
  /** A standby if one is up, else any instance. */
  PREFER_STANDBY("prefer-standby"),
  /** The primary if it is up, else any instance (PgJDBC {@code preferPrimary}). */
  PREFER_PRIMARY("prefer-primary");

  private final String confName;

  TargetSessionAttrs(String confName) {
    this.confName = confName;
  }

  /** The name written in conmgr.conf and in startup packets. */
  public String confName() {
    return confName;
  }

  /** Parses a libpq or PgJDBC name, case-insensitively; empty when the name is unknown. */
  public static Optional<TargetSessionAttrs> parse(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return Optional.ofNullable(switch (n) {
      case "any" -> ANY;
      case "read-write" -> READ_WRITE;
      case "read-only" -> READ_ONLY;
      case "primary", "master" -> PRIMARY;
      case "standby", "secondary", "slave" -> STANDBY;
      case "prefer-standby", "prefersecondary", "preferslave" -> PREFER_STANDBY;
      case "prefer-primary", "preferprimary" -> PREFER_PRIMARY;
      default -> null;
    });
  }

  /** Every accepted spelling, for error messages. */
  public static String acceptedNames() {
    return "any, read-write, read-only, primary, standby, prefer-standby, prefer-primary "
        + "(PgJDBC: master, secondary, preferSecondary, preferPrimary)";
  }
}
