package io.pgconmgr.conmgr.ops;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * How many client connections the process's open-files limit lets conmgr hold: above it, accept()
 * fails with EMFILE and clients wait unserved in the kernel's accept queue, so conmgr refuses them
 * itself first (docs/conmgr.md, "File descriptors").
 *
 * @param limit       the open-files limit ({@code ulimit -n}), or -1 when the platform does not tell
 * @param reserved    descriptors kept out of the client budget (see {@link #of})
 * @param connections client connections the rest can hold, two descriptors each; {@link Integer#MAX_VALUE} when unknown
 */
public record OpenFiles(long limit, long reserved, int connections) {

  /** A proxied client holds its own socket and the one to the instance. */
  public static final int PER_CONNECTION = 2;

  /**
   * Beyond what is open at startup, the listeners and the heartbeat links: the HTTP server and its
   * scrapes and probes, cancel
   * requests fanned out to instances, the socket of a client being refused, files the JVM opens late.
   */
  static final int SPARE = 64;

  /** Reads the limit and the descriptors open now; {@code toOpen}: listeners and heartbeat links still to come. */
  public static OpenFiles measure(int toOpen) {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof UnixOperatingSystemMXBean unix) {
      return of(unix.getMaxFileDescriptorCount(), unix.getOpenFileDescriptorCount(), toOpen);
    }
    return new OpenFiles(-1, 0, Integer.MAX_VALUE);
  }

  /** The budget for {@code limit} descriptors with {@code openNow} in use and {@code toOpen} more to come. */
  public static OpenFiles of(long limit, long openNow, int toOpen) {
    if (limit < 0) {
      return new OpenFiles(-1, 0, Integer.MAX_VALUE);
    }
    long reserved = openNow + toOpen + SPARE;
    long connections = Math.max(0, (limit - reserved) / PER_CONNECTION);
    return new OpenFiles(limit, reserved, (int) Math.min(Integer.MAX_VALUE, connections));
  }

  public boolean known() {
    return limit >= 0;
  }

  /**
   * An explicit {@code max_connections} promises more clients than the descriptors can hold. 0
   * (unlimited, the default) is not a promise: the startup line already says where the limit is.
   */
  public boolean belowMaxConnections(int maxConnections) {
    return known() && maxConnections > connections;
  }
}
