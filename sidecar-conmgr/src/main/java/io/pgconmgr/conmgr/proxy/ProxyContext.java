package io.pgconmgr.conmgr.proxy;

import io.pgconmgr.conmgr.ops.ConmgrMetrics;
import io.pgconmgr.conmgr.ops.OpenFiles;
import io.pgconmgr.conmgr.ops.RefusalLog;
import io.pgconmgr.conmgr.routing.Router;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every client connection handler shares: the router, the metrics, the limits.
 *
 * @param router          picks and binds instances
 * @param metrics         where decisions and errors are counted
 * @param routeWait       how long a client waits for a matching instance ({@code route_wait_timeout})
 * @param connectTimeout  TCP connect timeout towards an instance
 * @param startupTimeout  how long a new client may take to send its first packet
 * @param maxConnections  {@code max_connections}, 0 = unlimited
 * @param openFiles       the client connections the open-files limit can hold
 * @param refusals        the LOG lines of refused connections, at most two per window
 * @param kernelRelay     hands proxied connections to the kernel relay agent, or null ({@code kernel_relay_socket} unset)
 * @param openConnections client connections open now, refused ones included until they close
 */
public record ProxyContext(
    Router router,
    ConmgrMetrics metrics,
    Duration routeWait,
    Duration connectTimeout,
    Duration startupTimeout,
    int maxConnections,
    OpenFiles openFiles,
    RefusalLog refusals,
    KernelRelay kernelRelay,
    AtomicInteger openConnections) {

  public ProxyContext(Router router, ConmgrMetrics metrics, Duration routeWait, Duration connectTimeout,
      Duration startupTimeout, int maxConnections, OpenFiles openFiles, RefusalLog refusals, KernelRelay kernelRelay) {
    this(router, metrics, routeWait, connectTimeout, startupTimeout, maxConnections, openFiles, refusals, kernelRelay,
        new AtomicInteger());
  }
}
