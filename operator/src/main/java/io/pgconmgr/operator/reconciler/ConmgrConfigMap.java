package io.pgconmgr.operator.reconciler;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.InstanceSetResources;

/**
 * The ConfigMap holding conmgr.conf, mounted by every injected conmgr. While the spec or the pods give
 * no valid conmgr.conf (no instance yet, say), the last good one stays in place.
 */
@KubernetesDependent(informer = @Informer(labelSelector = InstanceSetResources.OWNED_SELECTOR))
public class ConmgrConfigMap extends RenderedConfigMap {

  public ConmgrConfigMap() {
    super(InstanceSetResources::conmgrConfigMapName, InstanceSetResources.CONMGR_CONF_KEY);
  }

  @Override
  String content(InstanceSet set, Context<InstanceSet> context) {
    String text = InstanceSetReconciler.desired(context).conmgrText();
    // Null only when guarded by HasContent: a ConfigMap exists, and keeps its content.
    return text != null ? text
        : getSecondaryResource(set, context).orElseThrow().getData().get(InstanceSetResources.CONMGR_CONF_KEY);
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
