package io.pgconmgr.protocol.heartbeat;

/**
 * The four heartbeat durations of a client, in milliseconds (conmgr.conf states them in seconds;
 * tests use fractions of a second).
 *
 * @param intervalMs        {@code heartbeat_interval}: how often both ends send a Heartbeat
 * @param timeoutMs         {@code heartbeat_timeout}: silence after which the link is down
 * @param connectIntervalMs {@code heartbeat_connect_interval}: pause between connect attempts
 * @param connectTimeoutMs  {@code heartbeat_connect_timeout}: bound on TCP connect plus the
 *                          Hello/Attributes exchange
 */
public record HeartbeatTiming(
    long intervalMs, long timeoutMs, long connectIntervalMs, long connectTimeoutMs) {

  /** The defaults of conmgr.conf: 10 s, 20 s, 1 s, 10 s. */
  public static final HeartbeatTiming DEFAULTS = ofSeconds(10, 20, 1, 10);

  public HeartbeatTiming {
    positive("heartbeat interval", intervalMs, Integer.MAX_VALUE);
    positive("heartbeat timeout", timeoutMs, Integer.MAX_VALUE); // both travel as int in Hello
    positive("heartbeat connect interval", connectIntervalMs, Long.MAX_VALUE);
    positive("heartbeat connect timeout", connectTimeoutMs, Integer.MAX_VALUE);
  }

  /**
   * Timing from conmgr.conf values, which are whole seconds. conmgr.conf accepts any int, as the
   * seed; the interval, timeout and connect timeout travel as int milliseconds, so values above
   * 2,147,483 s (24.8 days, in effect "never") are capped there instead of failing at start.
   */
  public static HeartbeatTiming ofSeconds(
      long interval, long timeout, long connectInterval, long connectTimeout) {
    return new HeartbeatTiming(intMillis(interval), intMillis(timeout),
        Math.multiplyExact(connectInterval, 1000), intMillis(connectTimeout));
  }

  private static long intMillis(long seconds) {
    return seconds > Integer.MAX_VALUE / 1000 ? Integer.MAX_VALUE : seconds * 1000;
  }

  private static void positive(String what, long ms, long max) {
    if (ms <= 0 || ms > max) {
      throw new IllegalArgumentException(what + " must be 1.." + max + " ms, got " + ms);
    }
  }
}
