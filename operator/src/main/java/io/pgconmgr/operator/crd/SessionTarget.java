package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;

/** target_session_attrs of a conmgr listener, spelled as in conmgr.conf (libpq names). */
public enum SessionTarget {
  @JsonProperty("any") ANY(TargetSessionAttrs.ANY),
  @JsonProperty("read-write") READ_WRITE(TargetSessionAttrs.READ_WRITE),
  @JsonProperty("read-only") READ_ONLY(TargetSessionAttrs.READ_ONLY),
  @JsonProperty("primary") PRIMARY(TargetSessionAttrs.PRIMARY),
  @JsonProperty("standby") STANDBY(TargetSessionAttrs.STANDBY),
  @JsonProperty("prefer-standby") PREFER_STANDBY(TargetSessionAttrs.PREFER_STANDBY),
  @JsonProperty("prefer-primary") PREFER_PRIMARY(TargetSessionAttrs.PREFER_PRIMARY);

  private final TargetSessionAttrs conf;

  SessionTarget(TargetSessionAttrs conf) {
    this.conf = conf;
  }

  /** The protocol model's value. */
  public TargetSessionAttrs toConf() {
    return conf;
  }
}
