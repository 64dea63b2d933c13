package io.pgconmgr.operator.reconciler;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.model.InstanceSetResources;
import java.util.function.Function;

/** A ConfigMap owned by an InstanceSet that holds one rendered file under one key. */
abstract class RenderedConfigMap extends CRUDKubernetesDependentResource<ConfigMap, InstanceSet> {
  private final Function<InstanceSet, String> name;
  private final String key;

  RenderedConfigMap(Function<InstanceSet, String> name, String key) {
    super(ConfigMap.class);
    this.name = name;
    this.key = key;
  }

  /** The file's content for this reconciliation. */
  abstract String content(InstanceSet set, Context<InstanceSet> context);

  /** The name is known without rendering; JOSDK would otherwise call desired() to learn it. */
  @Override
  protected ResourceID targetSecondaryResourceID(InstanceSet set, Context<InstanceSet> context) {
    return new ResourceID(name.apply(set), set.getMetadata().getNamespace());
  }

  @Override
  protected ConfigMap desired(InstanceSet set, Context<InstanceSet> context) {
    return new ConfigMapBuilder()
        .withNewMetadata()
          .withName(name.apply(set))
          .withNamespace(set.getMetadata().getNamespace())
          .withLabels(InstanceSetResources.ownedLabels(set))
        .endMetadata()
        .addToData(key, content(set, context))
        .build();
  }
}
