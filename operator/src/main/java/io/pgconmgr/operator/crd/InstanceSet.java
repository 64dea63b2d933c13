package io.pgconmgr.operator.crd;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.PrinterColumnFormat;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A replicated PostgreSQL set seen through pgconmgr: its instances, the conmgr and watchdog settings,
 * which application pods get conmgr, and (in the status) each instance's role as the watchdogs report it.
 */
@Group(InstanceSet.GROUP)
@Version(InstanceSet.VERSION)
@ShortNames("pgis")
@AdditionalPrinterColumn(name = "PRIMARY", jsonPath = ".status.primary",
    type = AdditionalPrinterColumn.Type.STRING, getDescription = "Instance the watchdogs report as primary")
@AdditionalPrinterColumn(name = "READY", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING, getDescription = "A primary is known and its link is up")
@AdditionalPrinterColumn(name = "AGE", jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE, format = PrinterColumnFormat.NONE)
public class InstanceSet extends CustomResource<InstanceSetSpec, InstanceSetStatus> implements Namespaced {
  public static final String GROUP = "pgconmgr.io";
  public static final String VERSION = "v1alpha1";
  public static final String KIND = "InstanceSet";

  @Override
  protected InstanceSetSpec initSpec() {
    return new InstanceSetSpec();
  }
}
