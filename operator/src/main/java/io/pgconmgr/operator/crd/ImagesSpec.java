package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;

/**
 * Images of the two sidecars. No schema default for the images: an image left out here comes from the
 * operator (its environment, set by the Helm chart, see {@code SidecarImages}), not from the CRD.
 */
public class ImagesSpec {
  @JsonPropertyDescription("Image of the conmgr sidecar; default: the operator's (Helm value image.registry, "
      + "sidecars.conmgr.image.repository, image.tag)")
  @Size(min = 1)
  private String conmgr;

  @JsonPropertyDescription("Image of the watchdog sidecar; default: the operator's (Helm value image.registry, "
      + "sidecars.watchdog.image.repository, image.tag)")
  @Size(min = 1)
  private String watchdog;

  @JsonPropertyDescription("Pull policy of both sidecar images")
  @Default("IfNotPresent")
  private PullPolicy pullPolicy = PullPolicy.IfNotPresent;

  /** Kubernetes imagePullPolicy values. */
  public enum PullPolicy { Always, IfNotPresent, Never }

  public String getConmgr() { return conmgr; }
  public void setConmgr(String conmgr) { this.conmgr = conmgr; }
  public String getWatchdog() { return watchdog; }
  public void setWatchdog(String watchdog) { this.watchdog = watchdog; }
  public PullPolicy getPullPolicy() { return pullPolicy; }
  public void setPullPolicy(PullPolicy pullPolicy) { this.pullPolicy = pullPolicy; }
}
