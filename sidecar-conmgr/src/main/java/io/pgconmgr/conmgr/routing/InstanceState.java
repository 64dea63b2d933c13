package io.pgconmgr.conmgr.routing;

import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.time.Instant;

/**
 * What conmgr knows about one instance at a moment: its configuration, the heartbeat link and the
 * attributes its watchdog last reported (null until the first report).
 *
 * @param instance       the instance as configured
 * @param link           heartbeat link state
 * @param attributes     last attributes received while the link was up; null if none yet
 * @param resolvedAddress the IP the heartbeat client last connected to (host names are resolved at every
 *                       connect), or null; clients are sent there so data and heartbeat share a path
 * @param since          when {@code link} last changed
 * @param reason         why the link is in this state (for status and error messages)
 */
public record InstanceState(
    BackendInstance instance,
    LinkState link,
    Attributes attributes,
    String resolvedAddress,
    Instant since,
    String reason) {

  /** The initial state of a configured instance. */
  public static InstanceState initial(BackendInstance instance, Instant now) {
    return new InstanceState(instance, LinkState.CONNECTING, null, null, now, "not connected yet");
  }

  public int number() {
    return instance.number();
  }

  /** Where clients connect: the address resolved by the heartbeat client, else the configured one. */
  public String connectHost() {
    return instance.hostaddr() != null ? instance.hostaddr()
        : resolvedAddress != null ? resolvedAddress : instance.host();
  }

  /** The link is up and the watchdog says the postmaster answers. */
  public boolean usable() {
    return link == LinkState.UP && attributes != null && attributes.reachable();
  }

  /** Usable and not in recovery: this instance claims to be a primary. */
  public boolean claimsPrimary() {
    return usable() && !attributes.inRecovery();
  }

  /** A short role word for status output: primary, standby, unreachable or unknown. */
  public String role() {
    if (link != LinkState.UP || attributes == null) {
      return "unknown";
    }
    if (!attributes.reachable()) {
      return "unreachable";
    }
    return attributes.inRecovery() ? "standby" : "primary";
  }

  /** "number (host:port)", how instances are named in logs and messages. */
  public String label() {
    return instance.number() + " (" + instance.address() + ":" + instance.port() + ")";
  }
}
