package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** An extra client port of conmgr with the instances it routes to (listener_port / listener_target_session_attrs). */
public class ListenerSpec {

  @JsonPropertyDescription("Client port on the pod's loopback")
  @Required
  @Min(1)
  @Max(65535)
  private Integer port;

  @JsonPropertyDescription("Which instances clients of this port reach")
  @Required
  private SessionTarget targetSessionAttrs;

  public ListenerSpec() {
  }

  public ListenerSpec(int port, SessionTarget targetSessionAttrs) {
    this.port = port;
    this.targetSessionAttrs = targetSessionAttrs;
  }

  public Integer getPort() { return port; }
  public void setPort(Integer port) { this.port = port; }
  public SessionTarget getTargetSessionAttrs() { return targetSessionAttrs; }
  public void setTargetSessionAttrs(SessionTarget targetSessionAttrs) { this.targetSessionAttrs = targetSessionAttrs; }
}
