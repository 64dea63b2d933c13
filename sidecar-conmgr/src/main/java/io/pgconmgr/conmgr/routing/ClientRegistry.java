package io.pgconmgr.conmgr.routing;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client connections of this conmgr, by the instance they were routed to: the load figure
 * of the balancer, and the list to close when an instance's heartbeat link goes down.
 */
public final class ClientRegistry {

  /** A client connection bound to an instance (proxied stream or aware-client notice channel). */
  public interface Client {
    /** The instance's link went down: fail the client at once. Called on any thread. */
    void linkLost(InstanceState instance, String reason);
  }

  /** One client bound to one instance; release it when the client goes away. */
  public final class Lease {
    private final InstanceState instance;
    private final Client client;

    private Lease(InstanceState instance, Client client) {
      this.instance = instance;
      this.client = client;
    }

    public InstanceState instance() {
      return instance;
    }

    /** Idempotent. */
    public void release() {
      Set<Lease> set = byInstance.get(instance.number());
      if (set != null) {
        set.remove(this);
      }
    }
  }

  private final Map<Integer, Set<Lease>> byInstance = new ConcurrentHashMap<>();

  Lease add(InstanceState instance, Client client) {
    Lease lease = new Lease(instance, client);
    byInstance.computeIfAbsent(instance.number(), n -> ConcurrentHashMap.newKeySet()).add(lease);
    return lease;
  }

  /** Active clients bound to an instance. */
  public int count(int instance) {
    Set<Lease> set = byInstance.get(instance);
    return set == null ? 0 : set.size();
  }

  /** Tells every client of {@code instance} that its link is lost; returns how many there were. */
  public int failAll(InstanceState instance, String reason) {
    Set<Lease> set = byInstance.get(instance.number());
    if (set == null) {
      return 0;
    }
    int n = 0;
    for (Lease lease : set.toArray(new Lease[0])) {
      if (set.remove(lease)) {
        lease.client.linkLost(instance, reason);
        n++;
      }
    }
    return n;
  }
}
