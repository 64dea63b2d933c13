package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;

/** Images of the two sidecars. */
public class ImagesSpec {
  public static final String DEFAULT_CONMGR = "ghcr.io/pgconmgr/conmgr:0.1.0";
  public static final String DEFAULT_WATCHDOG = "ghcr.io/pgconmgr/watchdog:0.1.0";

  @JsonPropertyDescription("Image of the conmgr sidecar")
  @Size(min = 1)
  @Default(DEFAULT_CONMGR)
  private String conmgr = DEFAULT_CONMGR;

  @JsonPropertyDescription("Image of the watchdog sidecar")
  @Size(min = 1)
  @Default(DEFAULT_WATCHDOG)
  private String watchdog = DEFAULT_WATCHDOG;

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
