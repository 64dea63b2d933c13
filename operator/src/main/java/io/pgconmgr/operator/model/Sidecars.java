package io.pgconmgr.operator.model;

import static io.pgconmgr.operator.model.InstanceSetResources.CONMGR_DATA_DIR;
import static io.pgconmgr.operator.model.InstanceSetResources.CONMGR_DATA_VOLUME;
import static io.pgconmgr.operator.model.InstanceSetResources.CONMGR_CONF_KEY;
import static io.pgconmgr.operator.model.InstanceSetResources.CONMGR_CONF_VOLUME;
import static io.pgconmgr.operator.model.InstanceSetResources.CONMGR_CONTAINER;
import static io.pgconmgr.operator.model.InstanceSetResources.RUN_DIR;
import static io.pgconmgr.operator.model.InstanceSetResources.RUN_VOLUME;
import static io.pgconmgr.operator.model.InstanceSetResources.SIDECAR_UID;
import static io.pgconmgr.operator.model.InstanceSetResources.TMP_DIR;
import static io.pgconmgr.operator.model.InstanceSetResources.TMP_VOLUME_PREFIX;
import static io.pgconmgr.operator.model.InstanceSetResources.WATCHDOG_CONF_DIR;
import static io.pgconmgr.operator.model.InstanceSetResources.WATCHDOG_CONF_KEY;
import static io.pgconmgr.operator.model.InstanceSetResources.WATCHDOG_CONF_VOLUME;
import static io.pgconmgr.operator.model.InstanceSetResources.WATCHDOG_CONTAINER;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.pgconmgr.operator.crd.ConmgrSpec;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.ListenerSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The one definition of each sidecar container and the volumes it needs. The injector adds exactly
 * these; the Helm chart's drift check compares against them.
 */
public final class Sidecars {
  /** Startup probe budget: conmgr is ready once the primary is connected, which may take a failover. */
  static final int STARTUP_PERIOD_SECONDS = 1;
  static final int STARTUP_FAILURE_THRESHOLD = 300;

  private Sidecars() {
  }

  /**
   * conmgr as a native sidecar (init container with restartPolicy Always): started before the
   * application containers, which start only once its startup probe on /ready passes (primary known).
   */
  public static Container conmgr(InstanceSet set, SidecarImages images) {
    InstanceSetSpec spec = set.getSpec();
    ConmgrSpec c = spec.getConmgr();
    List<ContainerPort> ports = new ArrayList<>();
    ports.add(port("pg", c.getPort()));
    int n = 1;
    for (ListenerSpec l : c.getListeners()) {
      ports.add(port("pg-" + n++, l.getPort()));
    }
    ports.add(port("conmgr-http", c.getHttpPort()));
    return new ContainerBuilder()
        .withName(CONMGR_CONTAINER)
        .withImage(images.conmgrFor(spec.getImages()))
        .withImagePullPolicy(spec.getImages().getPullPolicy().name())
        .withRestartPolicy("Always")
        .withArgs("-D", CONMGR_DATA_DIR)
        .withPorts(ports)
        .withStartupProbe(httpProbe("/ready", c.getHttpPort(), STARTUP_PERIOD_SECONDS, STARTUP_FAILURE_THRESHOLD))
        .withLivenessProbe(httpProbe("/live", c.getHttpPort(), 10, 3))
        .withResources(spec.getResources().getConmgr() != null ? spec.getResources().getConmgr() : defaultResources())
        .withSecurityContext(restricted())
        .withVolumeMounts(
            mount(CONMGR_DATA_VOLUME, CONMGR_DATA_DIR, false),
            // One file of the ConfigMap (subPath): conmgr reads it at start, a change needs a pod restart.
            new VolumeMountBuilder().withName(CONMGR_CONF_VOLUME).withMountPath(CONMGR_DATA_DIR + "/" + CONMGR_CONF_KEY)
                .withSubPath(CONMGR_CONF_KEY).withReadOnly(true).build(),
            mount(TMP_VOLUME_PREFIX + "conmgr", TMP_DIR, false))
        .build();
  }

  /** Volumes of the conmgr sidecar: the rendered conmgr.conf, its data directory and scratch space. */
  public static List<Volume> conmgrVolumes(InstanceSet set) {
    return List.of(
        configMapVolume(CONMGR_CONF_VOLUME, InstanceSetResources.conmgrConfigMapName(set), CONMGR_CONF_KEY),
        emptyDir(CONMGR_DATA_VOLUME),
        emptyDir(TMP_VOLUME_PREFIX + "conmgr"));
  }

  /** Environment that points libpq clients of an application container at conmgr's default listener. */
  public static List<EnvVar> pgEnv(InstanceSet set) {
    return List.of(new EnvVar("PGHOST", "127.0.0.1", null),
        new EnvVar("PGPORT", String.valueOf(set.getSpec().getConmgr().getPort()), null));
  }

  /**
   * The watchdog as a native sidecar of a PostgreSQL pod: it outlives the PostgreSQL container at
   * shutdown, so conmgrs see the instance go away through its heartbeats rather than through silence.
   */
  public static Container watchdog(InstanceSet set, SidecarImages images) {
    InstanceSetSpec spec = set.getSpec();
    return new ContainerBuilder()
        .withName(WATCHDOG_CONTAINER)
        .withImage(images.watchdogFor(spec.getImages()))
        .withImagePullPolicy(spec.getImages().getPullPolicy().name())
        .withRestartPolicy("Always")
        .withArgs("-c", WATCHDOG_CONF_DIR + "/" + WATCHDOG_CONF_KEY)
        .withPorts(port("watchdog", spec.getWatchdog().getPort()), port("watchdog-http", spec.getWatchdog().getHttpPort()))
        .withLivenessProbe(httpProbe("/live", spec.getWatchdog().getHttpPort(), 10, 3))
        .withResources(spec.getResources().getWatchdog() != null ? spec.getResources().getWatchdog() : defaultResources())
        .withSecurityContext(restricted())
        .withVolumeMounts(
            mount(WATCHDOG_CONF_VOLUME, WATCHDOG_CONF_DIR, true),
            runMount(),
            mount(TMP_VOLUME_PREFIX + "watchdog", TMP_DIR, false))
        .build();
  }

  /** Volumes of the watchdog sidecar: its settings, the directory shared with PostgreSQL, scratch space. */
  public static List<Volume> watchdogVolumes(InstanceSet set) {
    return List.of(
        configMapVolume(WATCHDOG_CONF_VOLUME, InstanceSetResources.watchdogConfigMapName(set), WATCHDOG_CONF_KEY),
        emptyDir(RUN_VOLUME),
        emptyDir(TMP_VOLUME_PREFIX + "watchdog"));
  }

  /** The mount of the shared run directory, in the watchdog and in the PostgreSQL container alike. */
  public static VolumeMount runMount() {
    return mount(RUN_VOLUME, RUN_DIR, false);
  }

  /** Requests small enough for every pod of a set; the memory limit bounds a JVM sidecar. */
  public static ResourceRequirements defaultResources() {
    return new ResourceRequirementsBuilder()
        .addToRequests("cpu", new Quantity("50m"))
        .addToRequests("memory", new Quantity("96Mi"))
        .addToLimits("memory", new Quantity("256Mi"))
        .build();
  }

  /** Non-root, read-only root filesystem, no privilege escalation, no capabilities (PSS "restricted"). */
  static SecurityContext restricted() {
    return new SecurityContextBuilder()
        .withRunAsNonRoot(true)
        .withRunAsUser(SIDECAR_UID)
        .withRunAsGroup(SIDECAR_UID)
        .withReadOnlyRootFilesystem(true)
        .withAllowPrivilegeEscalation(false)
        .withNewCapabilities().withDrop("ALL").endCapabilities()
        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
        .build();
  }

  private static ContainerPort port(String name, int port) {
    return new ContainerPortBuilder().withName(name).withContainerPort(port).withProtocol("TCP").build();
  }

  private static Probe httpProbe(String path, int port, int period, int failures) {
    return new ProbeBuilder()
        .withNewHttpGet().withPath(path).withPort(new IntOrString(port)).endHttpGet()
        .withPeriodSeconds(period)
        .withTimeoutSeconds(1)
        .withFailureThreshold(failures)
        .build();
  }

  private static VolumeMount mount(String volume, String path, boolean readOnly) {
    return new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(readOnly).build();
  }

  private static Volume configMapVolume(String volume, String configMap, String key) {
    return new VolumeBuilder().withName(volume)
        .withNewConfigMap().withName(configMap).addNewItem().withKey(key).withPath(key).endItem().endConfigMap()
        .build();
  }

  private static Volume emptyDir(String volume) {
    return new VolumeBuilder().withName(volume).withNewEmptyDir().endEmptyDir().build();
  }
}
