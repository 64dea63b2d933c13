package io.pgconmgr.operator.model;

import io.pgconmgr.operator.crd.InstanceSet;
import java.util.Map;

/**
 * Every name, label, annotation and path the operator derives from an InstanceSet, in one place:
 * the reconciler, the injector, the docs and the Helm chart all follow these.
 */
public final class InstanceSetResources {
  /** Label an application pod carries to get conmgr: its value names the InstanceSet. */
  public static final String INJECT_LABEL = "pgconmgr.io/inject";
  /** Label on every object the operator owns, naming the InstanceSet. */
  public static final String INSTANCESET_LABEL = "pgconmgr.io/instanceset";
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "pgconmgr-operator";
  /** The label selector (string form) of the operator's ConfigMap informers. */
  public static final String OWNED_SELECTOR = MANAGED_BY_LABEL + "=" + MANAGED_BY;
  /** Annotation the webhook puts on a pod it injected: which sidecar and for which InstanceSet. */
  public static final String INJECTED_ANNOTATION = "pgconmgr.io/injected";
  /** Annotation the webhook puts on a pod it gives conmgr: the hash of the conmgr.conf current at admission. */
  public static final String CONMGR_CONF_HASH_ANNOTATION = "pgconmgr.io/conmgr-conf-hash";

  public static final String CONMGR_CONTAINER = "pgconmgr-conmgr";
  public static final String WATCHDOG_CONTAINER = "pgconmgr-watchdog";

  public static final String CONMGR_CONF_KEY = "conmgr.conf";
  public static final String WATCHDOG_CONF_KEY = "watchdog.conf";

  /** Volume of the rendered conmgr.conf in application pods, mounted read-only as one file of the data dir. */
  public static final String CONMGR_CONF_VOLUME = "pgconmgr-conmgr-conf";
  /**
   * conmgr's directory ({@code -D}): an emptyDir, because conmgr writes conmgr.pid and conmgr.status
   * beside its conmgr.conf, and the root filesystem is read-only.
   */
  public static final String CONMGR_DATA_VOLUME = "pgconmgr-conmgr-data";
  public static final String CONMGR_DATA_DIR = "/var/run/conmgr";
  /** Volume and mount of the rendered watchdog settings (read-only) in PostgreSQL pods. */
  public static final String WATCHDOG_CONF_VOLUME = "pgconmgr-watchdog-conf";
  public static final String WATCHDOG_CONF_DIR = "/etc/pgconmgr/watchdog";
  /**
   * Volume shared by the watchdog and the PostgreSQL container: the watchdog keeps the
   * pgx_stat_watchdog file and its peer list there, PostgreSQL reads the file through file_fdw.
   */
  public static final String RUN_VOLUME = "pgconmgr-run";
  public static final String RUN_DIR = "/var/run/pgconmgr";
  /** The CSV behind pgx_stat_watchdog: the foreign table's absolute filename in every PostgreSQL container. */
  public static final String STAT_FILE = RUN_DIR + "/pgx_stat_watchdog.csv";
  /** The watchdog's peer list, kept across container restarts by the emptyDir. */
  public static final String STATE_FILE = RUN_DIR + "/watchdog.peers";
  /** Writable scratch space of a sidecar whose root filesystem is read-only. */
  public static final String TMP_VOLUME_PREFIX = "pgconmgr-tmp-";
  public static final String TMP_DIR = "/tmp";

  /** Unprivileged user the sidecar images run as. */
  public static final long SIDECAR_UID = 65532;

  private InstanceSetResources() {
  }

  public static String conmgrConfigMapName(String instanceSet) {
    return instanceSet + "-conmgr";
  }

  public static String watchdogConfigMapName(String instanceSet) {
    return instanceSet + "-watchdog";
  }

  public static String conmgrConfigMapName(InstanceSet set) {
    return conmgrConfigMapName(set.getMetadata().getName());
  }

  public static String watchdogConfigMapName(InstanceSet set) {
    return watchdogConfigMapName(set.getMetadata().getName());
  }

  /** Labels of every object owned by the InstanceSet. */
  public static Map<String, String> ownedLabels(InstanceSet set) {
    return Map.of(MANAGED_BY_LABEL, MANAGED_BY, INSTANCESET_LABEL, set.getMetadata().getName());
  }
}
