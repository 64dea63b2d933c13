package io.pgconmgr.operator.reconciler;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.InstanceSetResources;

/**
 * The ConfigMap holding conmgr.conf, mounted by every injected conmgr. While the spec or the pods give
 * no valid conmgr.conf (no instance yet, say), the last good one stays in place.
 */
@KubernetesDependent(informer = @Informer(labelSelector = InstanceSetResources.MANAGED_BY_LABEL + "="
    + InstanceSetResources.MANAGED_BY))
public class ConmgrConfigMap extends CRUDKubernetesDependentResource<ConfigMap, InstanceSet> {

  public ConmgrConfigMap() {
    super(ConfigMap.class);
  }

  /** The name is known without rendering; JOSDK would otherwise call desired() to learn it. */
  @Override
  protected ResourceID targetSecondaryResourceID(InstanceSet set, Context<InstanceSet> context) {
    return new ResourceID(InstanceSetResources.conmgrConfigMapName(set), set.getMetadata().getNamespace());
  }

  @Override
  protected ConfigMap desired(InstanceSet set, Context<InstanceSet> context) {
    String text = InstanceSetReconciler.desired(context).conmgrText();
    if (text == null) {
      // Guarded by HasContent: a ConfigMap exists, and keeps its content.
      text = getSecondaryResource(set, context).orElseThrow().getData().get(InstanceSetResources.CONMGR_CONF_KEY);
    }
    return new ConfigMapBuilder()
        .withNewMetadata()
          .withName(InstanceSetResources.conmgrConfigMapName(set))
          .withNamespace(set.getMetadata().getNamespace())
          .withLabels(InstanceSetResources.ownedLabels(set))
        .endMetadata()
        .addToData(InstanceSetResources.CONMGR_CONF_KEY, text)
        .build();
  }

  /** Write conmgr.conf when there is a valid one, or keep the existing ConfigMap. */
  public static class HasContent implements Condition<ConfigMap, InstanceSet> {
    @Override
    public boolean isMet(DependentResource<ConfigMap, InstanceSet> dependent, InstanceSet set, Context<InstanceSet> context) {
      return InstanceSetReconciler.desired(context).conmgrText() != null
          || dependent.getSecondaryResource(set, context).isPresent();
    }
  }
}
