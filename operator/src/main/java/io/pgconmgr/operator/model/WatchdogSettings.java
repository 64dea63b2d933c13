package io.pgconmgr.operator.model;

import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.WatchdogSpec;
import io.pgconmgr.protocol.conf.ConfFile;

/**
 * Renders the watchdog sidecar's settings file (postgresql.conf syntax, SPEC 2.2, docs/watchdog.md).
 * The watchdog runs in the PostgreSQL pod, so it reaches its instance on the pod's loopback at the
 * selector's port.
 */
public final class WatchdogSettings {

  private WatchdogSettings() {
  }

  public static String render(InstanceSetSpec spec, String origin) {
    WatchdogSpec w = spec.getWatchdog();
    int pgPort = spec.getPostgresSelector() != null ? spec.getPostgresSelector().getPort() : 5432;
    StringBuilder out = new StringBuilder();
    out.append("# Rendered by pgconmgr-operator from ").append(origin).append("; edits are overwritten.\n");
    out.append("watchdog.port = ").append(w.getPort()).append('\n');
    out.append("watchdog.http_port = ").append(w.getHttpPort()).append('\n');
    out.append("watchdog.check_attr_interval = ").append(w.getCheckAttrInterval()).append('\n');
    if (w.getMaxHeartbeatConnections() != null) {
      out.append("watchdog.max_heartbeat_connections = ").append(w.getMaxHeartbeatConnections()).append('\n');
    }
    String conninfo = "host=127.0.0.1 port=" + pgPort + " user=" + w.getUser() + " dbname=" + w.getDatabase();
    out.append("watchdog.conninfo = ").append(ConfFile.quote(conninfo)).append('\n');
    // Both in the volume shared with the PostgreSQL container: the CSV behind pgx_stat_watchdog (read
    // by file_fdw at the same absolute path) and the peer list a restarted watchdog container needs.
    out.append("watchdog.stat_file = ").append(ConfFile.quote(InstanceSetResources.STAT_FILE)).append('\n');
    out.append("watchdog.state_file = ").append(ConfFile.quote(InstanceSetResources.STATE_FILE)).append('\n');
    return out.toString();
  }
}
