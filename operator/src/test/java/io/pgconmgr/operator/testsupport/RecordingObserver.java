package io.pgconmgr.operator.testsupport;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.pgconmgr.operator.model.SetInstance;
import io.pgconmgr.operator.status.InstanceObserver;
import io.pgconmgr.operator.status.Observation;
import io.pgconmgr.protocol.heartbeat.HeartbeatTiming;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An observer with no watchdog behind it, for reconciler tests about ConfigMaps: every link is down.
 * Records what the reconciler asked it to track.
 */
public final class RecordingObserver implements InstanceObserver {
  public final Map<ResourceID, List<SetInstance>> tracked = new ConcurrentHashMap<>();
  public final Map<ResourceID, HeartbeatTiming> timings = new ConcurrentHashMap<>();
  public final AtomicInteger trackCalls = new AtomicInteger();
  public final Consumer<ResourceID> changed;

  public RecordingObserver(Consumer<ResourceID> changed) {
    this.changed = changed;
  }

  @Override
  public void track(ResourceID set, List<SetInstance> instances, HeartbeatTiming timing) {
    trackCalls.incrementAndGet();
    tracked.put(set, instances);
    timings.put(set, timing);
  }

  @Override
  public Map<String, Observation> observations(ResourceID set) {
    return Map.of();
  }

  @Override
  public void forget(ResourceID set) {
    tracked.remove(set);
    timings.remove(set);
  }

  @Override
  public void close() {
    tracked.clear();
  }
}
