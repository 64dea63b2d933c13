package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What the operator observed: each instance's role and link as the watchdogs report them, and the conditions. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class InstanceSetStatus {

  @JsonPropertyDescription("metadata.generation of the spec this status reflects")
  private Long observedGeneration;

  @JsonPropertyDescription("Name of the instance reported as primary; empty when none or more than one")
  private String primary;

  @JsonPropertyDescription("Every instance of the set, in conmgr.conf order")
  private List<InstanceStatus> instances = new ArrayList<>();

  @JsonPropertyDescription("Hash of the conmgr.conf in the <set>-conmgr ConfigMap; the webhook stamps it on each pod "
      + "it gives conmgr (annotation pgconmgr.io/conmgr-conf-hash)")
  private String conmgrConfHash;

  @JsonPropertyDescription("Running pods whose conmgr started with another conmgr.conf than the current one: conmgr "
      + "reads its file at start, so these pods need a restart (kubectl rollout restart) to use it")
  private Integer staleConmgrPods;

  @JsonPropertyDescription("Ready: one primary is known and reachable. Degraded: an instance is unreachable, "
      + "its link is down, or two instances claim to be primary")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() { return observedGeneration; }
  public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
  public String getPrimary() { return primary; }
  public void setPrimary(String primary) { this.primary = primary; }
  public List<InstanceStatus> getInstances() { return instances; }
  public void setInstances(List<InstanceStatus> instances) { this.instances = instances == null ? new ArrayList<>() : instances; }
  public String getConmgrConfHash() { return conmgrConfHash; }
  public void setConmgrConfHash(String conmgrConfHash) { this.conmgrConfHash = conmgrConfHash; }
  public Integer getStaleConmgrPods() { return staleConmgrPods; }
  public void setStaleConmgrPods(Integer staleConmgrPods) { this.staleConmgrPods = staleConmgrPods; }
  public List<Condition> getConditions() { return conditions; }
  public void setConditions(List<Condition> conditions) { this.conditions = conditions == null ? new ArrayList<>() : conditions; }

  @Override
  public boolean equals(Object o) {
    return o instanceof InstanceSetStatus s && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(primary, s.primary) && Objects.equals(instances, s.instances)
        && Objects.equals(conmgrConfHash, s.conmgrConfHash) && Objects.equals(staleConmgrPods, s.staleConmgrPods)
        && Objects.equals(conditions, s.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, primary, instances, conmgrConfHash, staleConmgrPods, conditions);
  }
}
