package io.pgconmgr.conmgr.routing;

import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The live table of instances: one row per configured instance, fed by its heartbeat client,
 * read by the router. Rows are immutable {@link InstanceState}s; every change is published to the
 * registered listeners after the table is updated, on the thread that made the change.
 */
public final class InstanceTable {

  /** Receives every row change; must not block (it runs on a heartbeat event loop). */
  @FunctionalInterface
  public interface ChangeListener {
    void changed(InstanceState before, InstanceState after);
  }

  private final Clock clock;
  private final Map<Integer, InstanceState> rows = new LinkedHashMap<>();
  private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();
  /** The rows as one immutable list, replaced on every change: read once per client connection, changed rarely. */
  private volatile List<InstanceState> snapshot;

  public InstanceTable(Collection<BackendInstance> instances, Clock clock) {
    this.clock = clock;
    for (BackendInstance i : instances) {
      rows.put(i.number(), InstanceState.initial(i, clock.instant()));
    }
    snapshot = List.copyOf(rows.values());
  }

  public void addListener(ChangeListener listener) {
    listeners.add(listener);
  }

  public void removeListener(ChangeListener listener) {
    listeners.remove(listener);
  }

  /**
   * Every row, in the order of the configuration: an immutable list that stays the same object
   * until a row changes, so callers may cache what they derive from it by identity.
   */
  public List<InstanceState> snapshot() {
    return snapshot;
  }

  public synchronized InstanceState get(int number) {
    return rows.get(number);
  }

  /** The watchdog answered the hello: link up with its first attributes. */
  public void linkUp(int number, Attributes attributes, String resolvedAddress) {
    update(number, s -> new InstanceState(s.instance(), LinkState.UP, attributes,
        resolvedAddress != null ? resolvedAddress : s.resolvedAddress(), clock.instant(), "heartbeat established"));
  }

  /** The watchdog pushed new attributes. */
  public void attributes(int number, Attributes attributes) {
    update(number, s -> new InstanceState(s.instance(), s.link(), attributes, s.resolvedAddress(),
        s.link() == LinkState.UP ? s.since() : clock.instant(), s.reason()));
  }

  /** The link was lost (or a connect attempt failed while it was up). */
  public void linkDown(int number, String reason) {
    update(number, s -> new InstanceState(s.instance(), LinkState.DOWN, s.attributes(), s.resolvedAddress(),
        s.link() == LinkState.DOWN ? s.since() : clock.instant(), reason));
  }

  /** A connect attempt failed before the link was ever up, or a retry is under way. */
  public void connecting(int number, String reason) {
    update(number, s -> new InstanceState(s.instance(), s.link() == LinkState.UP ? LinkState.DOWN : s.link(),
        s.attributes(), s.resolvedAddress(), s.since(), reason));
  }

  private void update(int number, java.util.function.UnaryOperator<InstanceState> change) {
    InstanceState before;
    InstanceState after;
    synchronized (this) {
      before = rows.get(number);
      if (before == null) {
        throw new IllegalArgumentException("no instance " + number + " in the table");
      }
      after = change.apply(before);
      if (after.equals(before)) {
        return;
      }
      rows.put(number, after);
      snapshot = List.copyOf(rows.values());
    }
    for (ChangeListener l : new ArrayList<>(listeners)) {
      l.changed(before, after);
    }
  }
}
