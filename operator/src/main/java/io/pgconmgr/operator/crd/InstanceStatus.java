package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** One instance as the operator's heartbeat session with its watchdog sees it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class InstanceStatus {

  /** Role of an instance. */
  public enum Role {
    @JsonProperty("primary") PRIMARY,
    @JsonProperty("standby") STANDBY,
    @JsonProperty("unknown") UNKNOWN
  }

  /** State of the heartbeat link with the instance's watchdog. */
  public enum Link {
    @JsonProperty("up") UP,
    @JsonProperty("down") DOWN
  }

  @JsonPropertyDescription("Pod name for selected pods, else host or hostaddr")
  private String name;
  @JsonPropertyDescription("Address conmgr connects to")
  private String address;
  @JsonPropertyDescription("Port of the postmaster")
  private Integer port;
  @JsonPropertyDescription("primary, standby, or unknown while the watchdog is not reachable or PostgreSQL does not answer")
  private Role role;
  @JsonPropertyDescription("Heartbeat link with the instance's watchdog: up or down")
  private Link link;
  @JsonPropertyDescription("PostgreSQL reachable by its watchdog")
  private Boolean reachable;
  @JsonPropertyDescription("Current timeline ID")
  private Long timeline;

  public String getName() { return name; }
  public void setName(String name) { this.name = name; }
  public String getAddress() { return address; }
  public void setAddress(String address) { this.address = address; }
  public Integer getPort() { return port; }
  public void setPort(Integer port) { this.port = port; }
  public Role getRole() { return role; }
  public void setRole(Role role) { this.role = role; }
  public Link getLink() { return link; }
  public void setLink(Link link) { this.link = link; }
  public Boolean getReachable() { return reachable; }
  public void setReachable(Boolean reachable) { this.reachable = reachable; }
  public Long getTimeline() { return timeline; }
  public void setTimeline(Long timeline) { this.timeline = timeline; }

  @Override
  public boolean equals(Object o) {
    return o instanceof InstanceStatus s && Objects.equals(name, s.name) && Objects.equals(address, s.address)
        && Objects.equals(port, s.port) && role == s.role && link == s.link
        && Objects.equals(reachable, s.reachable) && Objects.equals(timeline, s.timeline);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, address, port, role, link, reachable, timeline);
  }

  @Override
  public String toString() {
    return name + "(" + role + ", link " + link + ", timeline " + timeline + ")";
  }
}
