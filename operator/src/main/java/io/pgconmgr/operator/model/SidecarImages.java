package io.pgconmgr.operator.model;

import io.pgconmgr.operator.crd.ImagesSpec;
import java.util.Map;

/**
 * The operator's default sidecar images, for InstanceSets whose {@code spec.images} does not name one:
 * from the operator's environment (the Helm chart sets it from its values), else the built-in release.
 *
 * @param conmgr   image of the conmgr sidecar
 * @param watchdog image of the watchdog sidecar
 */
public record SidecarImages(String conmgr, String watchdog) {
  public static final String CONMGR_ENV = "PGCONMGR_CONMGR_IMAGE";
  public static final String WATCHDOG_ENV = "PGCONMGR_WATCHDOG_IMAGE";
  /** The images of this release, as published; what runs when neither the spec nor the environment says. */
  public static final SidecarImages BUILT_IN =
      new SidecarImages("ghcr.io/pgconmgr/conmgr:0.1.0", "ghcr.io/pgconmgr/watchdog:0.1.0");

  /** Defaults from {@code PGCONMGR_CONMGR_IMAGE} and {@code PGCONMGR_WATCHDOG_IMAGE}; unset or blank: built in. */
  public static SidecarImages fromEnvironment(Map<String, String> env) {
    return new SidecarImages(orElse(env.get(CONMGR_ENV), BUILT_IN.conmgr),
        orElse(env.get(WATCHDOG_ENV), BUILT_IN.watchdog));
  }

  /** The conmgr image for a set: its {@code spec.images.conmgr}, else this default. */
  public String conmgrFor(ImagesSpec images) {
    return orElse(images.getConmgr(), conmgr);
  }

  /** The watchdog image for a set: its {@code spec.images.watchdog}, else this default. */
  public String watchdogFor(ImagesSpec images) {
    return orElse(images.getWatchdog(), watchdog);
  }

  private static String orElse(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value.trim();
  }
}
