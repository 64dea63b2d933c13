package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.pgconmgr.protocol.conf.ConmgrConf;

/** One entry of conmgr's log_destination, spelled as in conmgr.conf. */
public enum LogDestination {
  @JsonProperty("stderr") STDERR(ConmgrConf.LogDestination.STDERR),
  @JsonProperty("syslog") SYSLOG(ConmgrConf.LogDestination.SYSLOG);

  private final ConmgrConf.LogDestination conf;

  LogDestination(ConmgrConf.LogDestination conf) {
    this.conf = conf;
  }

  /** The protocol model's value. */
  public ConmgrConf.LogDestination toConf() {
    return conf;
  }
}
