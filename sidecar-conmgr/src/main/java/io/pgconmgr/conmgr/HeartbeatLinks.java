package io.pgconmgr.conmgr;

import io.micrometer.core.instrument.Timer;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgconmgr.conmgr.ops.ConmgrMetrics;
import io.pgconmgr.conmgr.routing.InstanceTable;
import io.pgconmgr.conmgr.routing.LinkState;
import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.protocol.heartbeat.HeartbeatClient;
import io.pgconmgr.protocol.heartbeat.HeartbeatListener;
import io.pgconmgr.protocol.heartbeat.HeartbeatStatus;
import io.pgconmgr.protocol.heartbeat.HeartbeatTiming;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@link HeartbeatClient} per instance, feeding the instance table: link up/down and
 * attribute pushes go straight in; connect failures before a first link are copied from the
 * clients' status every second, so "why is there no primary" has an answer.
 */
final class HeartbeatLinks implements AutoCloseable {

  private final InstanceTable table;
  private final Map<Integer, HeartbeatClient> clients = new LinkedHashMap<>();
  private final ScheduledFuture<?> refresher;

  private HeartbeatLinks(ConmgrConf conf, InstanceTable table, ConmgrMetrics metrics, EventLoopGroup group) {
    this.table = table;
    HeartbeatTiming timing = HeartbeatTiming.ofSeconds(conf.heartbeatIntervalSeconds(), conf.heartbeatTimeoutSeconds(),
        conf.heartbeatConnectIntervalSeconds(), conf.heartbeatConnectTimeoutSeconds());
    String peer = "conmgr " + ProcessHandle.current().pid() + "@" + hostName();
    for (BackendInstance instance : conf.instances()) {
      int n = instance.number();
      HeartbeatClient[] self = new HeartbeatClient[1];
      Timer gaps = metrics.heartbeatGap(n);
      self[0] = HeartbeatClient.builder(group, instance.address(), instance.watchdogPort())
          .timing(timing)
          .peerName(peer)
          .listener(new HeartbeatListener() {
            @Override
            public void linkUp(Attributes attributes) {
              table.linkUp(n, attributes, resolved(self[0].status()));
            }

            @Override
            public void attributesChanged(Attributes attributes) {
              table.attributes(n, attributes);
            }

            @Override
            public void frameGap(long nanos) {
              gaps.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void linkDown(String reason) {
              table.linkDown(n, reason);
            }
          })
          .build();
      clients.put(n, self[0]);
      metrics.heartbeatStatus(n, () -> self[0].status());
    }
    clients.values().forEach(HeartbeatClient::start);
    refresher = group.next().scheduleAtFixedRate(this::refreshReasons, 1, 1, TimeUnit.SECONDS);
  }

  static HeartbeatLinks start(ConmgrConf conf, InstanceTable table, ConmgrMetrics metrics, EventLoopGroup group) {
    return new HeartbeatLinks(conf, table, metrics, group);
  }

  private void refreshReasons() {
    clients.forEach((n, client) -> {
      HeartbeatStatus s = client.status();
      if (!s.linkUp() && table.get(n).link() != LinkState.UP && s.lastError() != null) {
        table.connecting(n, "watchdog " + client.target() + ": " + s.lastError());
      }
    });
  }

  private static String resolved(HeartbeatStatus s) {
    InetSocketAddress a = s.remoteAddress();
    return a == null || a.getAddress() == null ? null : a.getAddress().getHostAddress();
  }

  /** The pod name in Kubernetes ($HOSTNAME), without a DNS lookup when it is set. */
  private static String hostName() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "localhost";
    }
  }

  /** Says goodbye to every watchdog (in parallel) and waits for the links to close. */
  @Override
  public void close() {
    refresher.cancel(false);
    List<Future<Void>> closing = new ArrayList<>();
    for (HeartbeatClient c : clients.values()) {
      closing.add(c.closeAsync("conmgr stopping"));
    }
    for (Future<Void> f : closing) {
      f.awaitUninterruptibly(6, TimeUnit.SECONDS);
    }
  }
}
