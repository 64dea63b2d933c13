package io.pgconmgr.operator.status;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.pgconmgr.operator.model.SetInstance;
import io.pgconmgr.protocol.heartbeat.HeartbeatTiming;
import java.util.List;
import java.util.Map;

/**
 * Holds heartbeat sessions with the watchdogs of each InstanceSet and reports what they see. Calls
 * the change listener given at construction whenever an observation of a set changes.
 */
public interface InstanceObserver extends AutoCloseable {

  /** Key of an instance's session: the watchdog's address and port. */
  static String key(SetInstance instance) {
    return instance.address() + ":" + instance.watchdogPort();
  }

  /**
   * Opens sessions to these instances' watchdogs with conmgr's timing, closing those no longer listed.
   * Returns at once: connecting and every exchange happen in the background.
   */
  void track(ResourceID set, List<SetInstance> instances, HeartbeatTiming timing);

  /** The current observation of every tracked instance of the set, by {@link #key}. */
  Map<String, Observation> observations(ResourceID set);

  /** Closes every session of the set. */
  void forget(ResourceID set);

  @Override
  void close();
}
