package io.pgconmgr.conmgr.ops;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LOG lines for client connections refused at accept ({@code max_connections}, the open-files
 * limit), at most two per window: under a flood of clients, a line per refusal would flood the log
 * and cost more than the refusal itself. The first refusal of a window is logged at once with the
 * client's address; the others are counted, and {@link #flush} (called by the owner once per
 * window) or the next refusal after the window sums them up by reason. The metric
 * {@code conmgr_clients_refused_total} still counts every one.
 */
public final class RefusalLog {

  public static final Duration WINDOW = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(RefusalLog.class);

  private final LongSupplier nanoClock;
  private final long windowNanos;
  private boolean windowOpen;
  private long windowStart;
  private final Map<String, Integer> suppressed = new TreeMap<>();

  public RefusalLog() {
    this(System::nanoTime, WINDOW);
  }

  RefusalLog(LongSupplier nanoClock, Duration window) {
    this.nanoClock = nanoClock;
    this.windowNanos = window.toNanos();
  }

  /** A client from {@code from} was refused because {@code why}; may be called from any thread. */
  public synchronized void refused(SocketAddress from, String why) {
    long now = nanoClock.getAsLong();
    if (windowOpen && now - windowStart < windowNanos) {
      suppressed.merge(why, 1, Integer::sum);
      return;
    }
    logSuppressed();
    log.info(PgLevel.LOG, "connection from {} refused: {}", from, why);
    windowOpen = true;
    windowStart = now;
  }

  /** Once the window is over: sums up the refusals it did not log, and lets the next one through. */
  public synchronized void flush() {
    if (windowOpen && nanoClock.getAsLong() - windowStart >= windowNanos) {
      logSuppressed();
      windowOpen = false;
    }
  }

  /** At stop: sums up what the current window has not logged yet. */
  public synchronized void close() {
    logSuppressed();
    windowOpen = false;
  }

  private void logSuppressed() {
    if (suppressed.isEmpty()) {
      return;
    }
    int count = suppressed.values().stream().mapToInt(Integer::intValue).sum();
    log.info(PgLevel.LOG, "{} more connection(s) refused within {} s of the last one logged: {}", count,
        windowNanos / 1_000_000_000L, suppressed.entrySet().stream()
            .map(e -> e.getKey() + " (" + e.getValue() + ")").collect(Collectors.joining("; ")));
    suppressed.clear();
  }
}
