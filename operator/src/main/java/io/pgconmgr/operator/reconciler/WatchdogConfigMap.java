package io.pgconmgr.operator.reconciler;

import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.InstanceSetResources;

/**
 * The ConfigMap holding the watchdog settings, mounted by every injected watchdog. It does not depend
 * on the pods, so it exists before the first PostgreSQL pod starts.
 */
@KubernetesDependent(informer = @Informer(labelSelector = InstanceSetResources.OWNED_SELECTOR))
public class WatchdogConfigMap extends RenderedConfigMap {

  public WatchdogConfigMap() {
    super(InstanceSetResources::watchdogConfigMapName, InstanceSetResources.WATCHDOG_CONF_KEY);
  }

  @Override
  String content(InstanceSet set, Context<InstanceSet> context) {
    return InstanceSetReconciler.desired(context).watchdogText();
  }
}
