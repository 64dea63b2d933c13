package io.pgconmgr.operator.model;

import io.fabric8.kubernetes.api.model.Pod;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.protocol.conf.ConfProblem;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.ConmgrConfRenderer;
import io.pgconmgr.protocol.conf.ConmgrConfValidator;
import io.pgconmgr.protocol.heartbeat.HeartbeatTiming;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;

/**
 * Everything the operator derives from an InstanceSet and the pods it selects, before touching the
 * cluster: the instances, the conmgr.conf model with the validator's verdict, and both rendered files.
 *
 * @param instances    the set's instances in conmgr.conf order
 * @param conmgrConf   the conmgr.conf model
 * @param errors       the validator's errors; empty when conmgr.conf may be written
 * @param warnings     the validator's warnings (settings that load but misbehave)
 * @param conmgrText   the rendered conmgr.conf; null when there are errors
 * @param watchdogText the rendered watchdog settings (they do not depend on the instances)
 */
public record DesiredConfig(List<SetInstance> instances, ConmgrConf conmgrConf, List<ConfProblem> errors,
    List<ConfProblem> warnings, String conmgrText, String watchdogText) {

  public static DesiredConfig of(InstanceSet set, Collection<Pod> pods) {
    List<SetInstance> instances = SetInstances.resolve(set.getSpec(), pods);
    ConmgrConf conf = ConmgrConfFactory.build(set.getSpec(), instances);
    ConmgrConfValidator.Validation validation = ConmgrConfValidator.validate(conf);
    String origin = "InstanceSet " + set.getMetadata().getNamespace() + "/" + set.getMetadata().getName();
    return new DesiredConfig(instances, conf, validation.errors(), validation.warnings(),
        validation.isValid() ? ConmgrConfRenderer.render(conf) : null, WatchdogSettings.render(set.getSpec(), origin));
  }

  public boolean isValid() {
    return errors.isEmpty();
  }

  /** The heartbeat timing conmgr (and the operator's sessions) will use. */
  public HeartbeatTiming timing() {
    return HeartbeatTiming.ofSeconds(conmgrConf.heartbeatIntervalSeconds(), conmgrConf.heartbeatTimeoutSeconds(),
        conmgrConf.heartbeatConnectIntervalSeconds(), conmgrConf.heartbeatConnectTimeoutSeconds());
  }

  /**
   * Short hash of a rendered conmgr.conf: the webhook stamps it on each pod it gives conmgr, so pods
   * started with an older file can be told apart (conmgr reads its file only at start).
   */
  public static String hash(String conmgrText) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(conmgrText.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
