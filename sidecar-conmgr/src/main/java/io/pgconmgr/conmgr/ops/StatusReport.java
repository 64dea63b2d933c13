package io.pgconmgr.conmgr.ops;

import io.pgconmgr.conmgr.routing.InstanceState;
import io.pgconmgr.conmgr.routing.RoutingPolicy;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** The instance table as text: what {@code cm_ctl status} and {@code GET /status} print. */
public final class StatusReport {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z").withZone(ZoneId.systemDefault());

  private StatusReport() {
  }

  public static String render(List<InstanceState> snapshot) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%-8s %-28s %-11s %-10s %-23s %s%n", "instance", "address", "role", "link", "since", "detail"));
    RoutingPolicy.PrimaryView view = RoutingPolicy.primaries(snapshot);
    for (InstanceState s : snapshot) {
      String address = s.instance().address() + ":" + s.instance().port();
      sb.append(String.format("%-8d %-28s %-11s %-10s %-23s %s%n", s.number(), address, s.role(), s.link().label(),
          TIME.format(s.since()), detail(s, view)));
    }
    if (view.splitBrain()) {
      sb.append("WARNING: split brain: ").append(view.claimants().size()).append(" instances claim to be primary")
          .append(view.ambiguous() ? " on the same or an unknown timeline; read-write routing is suspended"
              : "; the ones on an older timeline are not used")
          .append(System.lineSeparator());
    }
    return sb.toString();
  }

  private static String detail(InstanceState s, RoutingPolicy.PrimaryView view) {
    Attributes a = s.attributes();
    StringBuilder d = new StringBuilder();
    if (a != null && a.reachable()) {
      d.append("timeline ").append(a.timeline());
      if (a.inRecovery() && a.replayLagMs() >= 0) {
        d.append(", replay lag ").append(a.replayLagMs()).append(" ms");
      }
      if (a.defaultTransactionReadOnly()) {
        d.append(", default_transaction_read_only");
      }
      if (view.stale().stream().anyMatch(x -> x.number() == s.number())) {
        d.append(", STALE PRIMARY (older timeline, not used)");
      }
    }
    if (!s.usable()) {
      String why = s.link() == io.pgconmgr.conmgr.routing.LinkState.UP && a != null && !a.reachable()
          ? "watchdog reports PostgreSQL not answering" : s.reason();
      d.append(d.length() > 0 ? ", " : "").append(why);
    }
    return d.toString();
  }
}
