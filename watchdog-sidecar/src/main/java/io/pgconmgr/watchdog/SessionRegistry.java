package io.pgconmgr.watchdog;

import io.netty.channel.ChannelFuture;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The connections and established sessions of one watchdog: admission against
 * max_heartbeat_connections, the live table behind pgx_stat_watchdog, and loss notification.
 */
final class SessionRegistry {
  /** Why a session ended; the metric tag and log word. */
  enum LossReason {
    TIMEOUT, GOODBYE, CLOSED, RESTART;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Told about every established session that ends. */
  interface LossListener {
    void peerLost(PeerSession peer, LossReason reason, Instant at);
  }

  private final Map<HeartbeatSessionHandler, PeerSession> live = new ConcurrentHashMap<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final List<LossListener> lossListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<PeerSession>> establishListeners =
      new CopyOnWriteArrayList<>();
  /** Connections allowed at once; negative while unknown (max_connections not read yet). */
  private volatile int limit;
  private volatile boolean shuttingDown;

  SessionRegistry(int limit) {
    this.limit = limit;
  }

  void setLimit(int limit) {
    this.limit = limit;
  }

  int limit() {
    return limit;
  }

  void onLoss(LossListener l) {
    lossListeners.add(l);
  }

  void onChange(Runnable r) {
    changeListeners.add(r);
  }

  void onEstablished(Consumer<PeerSession> c) {
    establishListeners.add(c);
  }

  /** Takes a connection slot; false when max_heartbeat_connections are already in use. */
  boolean admit() {
    while (true) {
      int current = connections.get();
      int max = limit;
      if (max >= 0 && current >= max) {
        return false;
      }
      if (connections.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  void release() {
    connections.decrementAndGet();
  }

  int connections() {
    return connections.get();
  }

  void established(HeartbeatSessionHandler handler, PeerSession peer) {
    live.put(handler, peer);
    establishListeners.forEach(c -> c.accept(peer));
    changeListeners.forEach(Runnable::run);
  }

  /** Ends a session once; later calls for the same handler do nothing. */
  void ended(HeartbeatSessionHandler handler, LossReason reason, Instant at) {
    PeerSession peer = live.remove(handler);
    if (peer != null && !shuttingDown) {
      changeListeners.forEach(Runnable::run);
      lossListeners.forEach(l -> l.peerLost(peer, reason, at));
    }
  }

  boolean hasSession(HeartbeatSessionHandler handler) {
    return live.containsKey(handler);
  }

  boolean hasLiveSession(InetAddress address) {
    return live.values().stream().anyMatch(p -> p.address().equals(address));
  }

  int size() {
    return live.size();
  }

  /** Established sessions ordered by address and port. */
  List<PeerSession> sessions() {
    List<PeerSession> list = new ArrayList<>(live.values());
    list.sort(Comparator.comparing((PeerSession p) -> p.address().getHostAddress())
        .thenComparingInt(PeerSession::port));
    return list;
  }

  /** Says Goodbye to every session; from now on sessions end without being lost. */
  void shutdown(String reason) {
    shuttingDown = true;
    List<ChannelFuture> sent = new ArrayList<>();
    live.keySet().forEach(h -> sent.add(h.goodbye(reason)));
    // Let the goodbyes leave before the event loops stop (bounded: a peer may not read).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    for (ChannelFuture f : sent) {
      f.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }

  boolean shuttingDown() {
    return shuttingDown;
  }

  void broadcast(Attributes attributes) {
    live.keySet().forEach(h -> h.push(attributes));
  }
}
