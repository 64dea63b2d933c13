package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

/** Resource requests and limits of the sidecars; small defaults from the model layer apply when absent. */
public class SidecarResources {

  @JsonPropertyDescription("Resources of each conmgr sidecar (default: requests cpu 50m, memory 96Mi; limit memory 256Mi)")
  private ResourceRequirements conmgr;

  @JsonPropertyDescription("Resources of each watchdog sidecar (default: requests cpu 50m, memory 96Mi; limit memory 256Mi)")
  private ResourceRequirements watchdog;

  public ResourceRequirements getConmgr() { return conmgr; }
  public void setConmgr(ResourceRequirements conmgr) { this.conmgr = conmgr; }
  public ResourceRequirements getWatchdog() { return watchdog; }
  public void setWatchdog(ResourceRequirements watchdog) { this.watchdog = watchdog; }
}
