package io.pgconmgr.operator.reconciler;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.InstanceSetResources;

/**
 * The ConfigMap holding the watchdog settings, mounted by every injected watchdog. It does not depend
 * on the pods, so it exists before the first PostgreSQL pod starts.
 */
@KubernetesDependent(informer = @Informer(labelSelector = InstanceSetResources.MANAGED_BY_LABEL + "="
    + InstanceSetResources.MANAGED_BY))
public class WatchdogConfigMap extends CRUDKubernetesDependentResource<ConfigMap, InstanceSet> {

  public WatchdogConfigMap() {
    super(ConfigMap.class);
  }

  /** The name is known without rendering; JOSDK would otherwise call desired() to learn it. */
  @Override
  protected ResourceID targetSecondaryResourceID(InstanceSet set, Context<InstanceSet> context) {
    return new ResourceID(InstanceSetResources.watchdogConfigMapName(set), set.getMetadata().getNamespace());
  }

  @Override
  protected ConfigMap desired(InstanceSet set, Context<InstanceSet> context) {
    return new ConfigMapBuilder()
        .withNewMetadata()
          .withName(InstanceSetResources.watchdogConfigMapName(set))
          .withNamespace(set.getMetadata().getNamespace())
          .withLabels(InstanceSetResources.ownedLabels(set))
        .endMetadata()
        .addToData(InstanceSetResources.WATCHDOG_CONF_KEY, InstanceSetReconciler.desired(context).watchdogText())
        .build();
  }
}
