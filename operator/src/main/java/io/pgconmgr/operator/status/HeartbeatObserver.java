package io.pgconmgr.operator.status;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.pgconmgr.operator.model.SetInstance;
import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.protocol.heartbeat.HeartbeatClient;
import io.pgconmgr.protocol.heartbeat.HeartbeatListener;
import io.pgconmgr.protocol.heartbeat.HeartbeatStatus;
import io.pgconmgr.protocol.heartbeat.HeartbeatTiming;
import io.pgconmgr.protocol.netty.NettyTransport;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds one heartbeat session (the protocol module's {@link HeartbeatClient}) per watchdog of each
 * InstanceSet, with the set's conmgr timing, so the operator sees roles and links as a conmgr does.
 * Any link or attribute change asks for a reconciliation of the set.
 */
public final class HeartbeatObserver implements InstanceObserver {
  private static final Logger LOG = LoggerFactory.getLogger(HeartbeatObserver.class);
  public static final String PEER_NAME = "pgconmgr-operator";

  private final EventLoopGroup group;
  private final Consumer<ResourceID> changed;
  private final Map<ResourceID, Map<String, Session>> sessions = new ConcurrentHashMap<>();

  private record Session(HeartbeatClient client, HeartbeatTiming timing) {
  }

  /**
   * @param changed called (on a Netty event loop, so it must not block) when an observation of a set changes
   */
  public HeartbeatObserver(Consumer<ResourceID> changed, MeterRegistry meters) {
    this.changed = changed;
    this.group = NettyTransport.newEventLoopGroup(1, "operator-heartbeat");
    if (meters != null) {
      meters.gauge("pgconmgr.operator.heartbeat.sessions", sessions,
          s -> s.values().stream().mapToInt(Map::size).sum());
      meters.gauge("pgconmgr.operator.heartbeat.links.up", sessions,
          s -> s.values().stream().flatMap(m -> m.values().stream()).filter(x -> x.client.status().linkUp()).count());
    }
  }

  @Override
  public void track(ResourceID set, List<SetInstance> instances, HeartbeatTiming timing) {
    Map<String, Session> current = sessions.computeIfAbsent(set, k -> new HashMap<>());
    synchronized (current) {
      Map<String, SetInstance> wanted = new HashMap<>();
      instances.forEach(i -> wanted.put(InstanceObserver.key(i), i));
      current.entrySet().removeIf(e -> {
        boolean stale = !wanted.containsKey(e.getKey()) || !e.getValue().timing.equals(timing);
        if (stale) {
          e.getValue().client.closeAsync("instance left the InstanceSet or its heartbeat timing changed");
        }
        return stale;
      });
      wanted.forEach((key, instance) -> current.computeIfAbsent(key, k -> {
        LOG.info("opening a heartbeat session with the watchdog of {} at {}", instance.name(), k);
        HeartbeatClient client = HeartbeatClient.builder(group, instance.address(), instance.watchdogPort())
            .timing(timing)
            .peerName(PEER_NAME)
            .listener(new Listener(set))
            .build()
            .start();
        return new Session(client, timing);
      }));
    }
  }

  @Override
  public Map<String, Observation> observations(ResourceID set) {
    Map<String, Session> current = sessions.get(set);
    if (current == null) {
      return Map.of();
    }
    Map<String, Observation> result = new HashMap<>();
    synchronized (current) {
      current.forEach((key, session) -> {
        HeartbeatStatus s = session.client.status();
        result.put(key, new Observation(s.linkUp(), s.attributes()));
      });
    }
    return result;
  }

  @Override
  public void forget(ResourceID set) {
    closeSessions(set, "InstanceSet deleted");
  }

  /** Says goodbye to every watchdog (so none waits for a timeout), then stops the event loop. */
  @Override
  public void close() {
    List<Future<Void>> closing = new ArrayList<>();
    List.copyOf(sessions.keySet()).forEach(set -> closing.addAll(closeSessions(set, "operator stopping")));
    closing.forEach(f -> f.awaitUninterruptibly(2, TimeUnit.SECONDS));
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  private List<Future<Void>> closeSessions(ResourceID set, String reason) {
    List<Future<Void>> closing = new ArrayList<>();
    Map<String, Session> current = sessions.remove(set);
    if (current != null) {
      synchronized (current) {
        current.values().forEach(s -> closing.add(s.client.closeAsync(reason)));
        current.clear();
      }
    }
    return closing;
  }

  /** Every link event of a set's session asks for a reconciliation; the reconciler reads status() then. */
  private final class Listener implements HeartbeatListener {
    private final ResourceID set;

    Listener(ResourceID set) {
      this.set = set;
    }

    @Override
    public void linkUp(Attributes attributes) {
      changed.accept(set);
    }

    @Override
    public void attributesChanged(Attributes attributes) {
      changed.accept(set);
    }

    @Override
    public void linkDown(String reason) {
      LOG.info("heartbeat link of {} down: {}", set, reason);
      changed.accept(set);
    }
  }
}
