package io.pgconmgr.conmgr;

import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.Listener;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Set;

/** conmgr.conf models for tests: free ports, short timings. */
public final class TestConf {

  private TestConf() {
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Default listener read-write, plus the given extra listeners; interval 1 s, timeout 3 s. */
  public static ConmgrConf conf(List<BackendInstance> instances, List<Listener> extra, int routeWaitMs,
      int maxConnections) {
    return new ConmgrConf(freePort(), TargetSessionAttrs.READ_WRITE, extra, "127.0.0.1", instances,
        1, 3, 1, 2, Set.of(ConmgrConf.LogDestination.STDERR), ConmgrConf.SyslogFacility.LOCAL0, "conmgr",
        ConmgrConf.LogLevel.LOG, maxConnections, 0, routeWaitMs);
  }

  public static BackendInstance instance(int number, int port, int watchdogPort) {
    return new BackendInstance(number, null, "127.0.0.1", port, watchdogPort);
  }
}
