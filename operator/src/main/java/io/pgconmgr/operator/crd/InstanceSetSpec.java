package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** What the user declares: the instances (listed and/or selected pods), settings, injection, images. */
@ValidationRule(value = "(has(self.instances) && size(self.instances) > 0) || has(self.postgresSelector)",
    message = "list the PostgreSQL instances in spec.instances or select their pods with spec.postgresSelector (or both)",
    reason = "FieldValueRequired")
public class InstanceSetSpec {

  @JsonPropertyDescription("PostgreSQL instances reached at a fixed host or address (outside the cluster, or a "
      + "Service per instance). Numbered 0..n-1 in conmgr.conf, in this order.")
  @Size(max = 64)
  private List<InstanceSpec> instances = new ArrayList<>();

  @JsonPropertyDescription("PostgreSQL pods of this namespace that form the set: each running pod with an IP "
      + "becomes an instance (after the listed ones, ordered by pod name) and gets the watchdog sidecar.")
  private PostgresSelector postgresSelector;

  @JsonPropertyDescription("conmgr.conf settings of the conmgr sidecar, in camelCase")
  private ConmgrSpec conmgr = new ConmgrSpec();

  @JsonPropertyDescription("Settings of the watchdog sidecar injected into the selected PostgreSQL pods")
  private WatchdogSpec watchdog = new WatchdogSpec();

  @JsonPropertyDescription("How the conmgr sidecar is injected into application pods labelled "
      + "pgconmgr.io/inject=<this InstanceSet's name>")
  private InjectionSpec injection = new InjectionSpec();

  @JsonPropertyDescription("Sidecar container images")
  private ImagesSpec images = new ImagesSpec();

  @JsonPropertyDescription("Resource requests and limits of the sidecars")
  private SidecarResources resources = new SidecarResources();

  public List<InstanceSpec> getInstances() { return instances; }
  public void setInstances(List<InstanceSpec> instances) { this.instances = instances == null ? new ArrayList<>() : instances; }
  public PostgresSelector getPostgresSelector() { return postgresSelector; }
  public void setPostgresSelector(PostgresSelector postgresSelector) { this.postgresSelector = postgresSelector; }
  public ConmgrSpec getConmgr() { return conmgr; }
  public void setConmgr(ConmgrSpec conmgr) { this.conmgr = conmgr == null ? new ConmgrSpec() : conmgr; }
  public WatchdogSpec getWatchdog() { return watchdog; }
  public void setWatchdog(WatchdogSpec watchdog) { this.watchdog = watchdog == null ? new WatchdogSpec() : watchdog; }
  public InjectionSpec getInjection() { return injection; }
  public void setInjection(InjectionSpec injection) { this.injection = injection == null ? new InjectionSpec() : injection; }
  public ImagesSpec getImages() { return images; }
  public void setImages(ImagesSpec images) { this.images = images == null ? new ImagesSpec() : images; }
  public SidecarResources getResources() { return resources; }
  public void setResources(SidecarResources resources) { this.resources = resources == null ? new SidecarResources() : resources; }
}
