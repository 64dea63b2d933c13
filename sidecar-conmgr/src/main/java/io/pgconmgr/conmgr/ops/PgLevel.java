package io.pgconmgr.conmgr.ops;

import org.slf4j.Marker;
import org.slf4j.MarkerFactory;

/**
 * PostgreSQL message levels that SLF4J has no level for. Log with
 * {@code log.info(PgLevel.LOG, ...)}: the {@link Logging} filter ranks the event as LOG, which
 * {@code log_min_messages} orders above ERROR, as the postmaster does.
 */
public final class PgLevel {
  /** Operational facts an administrator wants by default (links, roles, refusals). */
  public static final Marker LOG = MarkerFactory.getMarker("LOG");
  /** Helpful information below WARNING. */
  public static final Marker NOTICE = MarkerFactory.getMarker("NOTICE");
  /** The process is stopping because of this error. */
  public static final Marker FATAL = MarkerFactory.getMarker("FATAL");

  private PgLevel() {
  }
}
