package io.pgconmgr.protocol.heartbeat;

/**
 * The state of one PostgreSQL instance as its watchdog last observed it. Sent in answer to a
 * {@link Hello} and again whenever a check sees a change.
 *
 * @param reachable                  the postmaster answered the last check
 * @param inRecovery                 {@code pg_is_in_recovery()}: a standby
 * @param defaultTransactionReadOnly {@code default_transaction_read_only} is on
 * @param timeline                   current timeline ID (0 when unknown)
 * @param systemIdentifier           {@code pg_control_system()} system identifier (0 when unknown)
 * @param replayLagMs                replay lag of a standby in ms; -1 on a primary or when unknown
 * @param serverVersionNum           {@code server_version_num}, e.g. 170006 (0 when unknown)
 */
public record Attributes(
    boolean reachable,
    boolean inRecovery,
    boolean defaultTransactionReadOnly,
    long timeline,
    long systemIdentifier,
    long replayLagMs,
    int serverVersionNum) implements Frame {

  /** What a watchdog reports while its instance does not answer. */
  public static final Attributes UNREACHABLE = new Attributes(false, false, false, 0, 0, -1, 0);

  /** A reachable instance that accepts writes. */
  public boolean isWritable() {
    return reachable && !inRecovery && !defaultTransactionReadOnly;
  }
}
