package io.pgconmgr.operator.webhook;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.pgconmgr.operator.crd.InstanceSet;
import java.util.Collection;
import java.util.List;

/** The InstanceSets of every namespace from an informer, so admission answers without an API call. */
public final class InstanceSetCache implements AutoCloseable {
  private final SharedIndexInformer<InstanceSet> informer;

  private InstanceSetCache(SharedIndexInformer<InstanceSet> informer) {
    this.informer = informer;
  }

  /** Starts watching InstanceSets in all namespaces (or one, when {@code namespace} is not null). */
  public static InstanceSetCache start(KubernetesClient client, String namespace) {
    var resources = client.resources(InstanceSet.class);
    SharedIndexInformer<InstanceSet> informer = namespace == null
        ? resources.inAnyNamespace().inform()
        : resources.inNamespace(namespace).inform();
    return new InstanceSetCache(informer);
  }

  public Collection<InstanceSet> inNamespace(String namespace) {
    List<InstanceSet> sets = informer.getIndexer().byIndex(Cache.NAMESPACE_INDEX, namespace);
    return sets == null ? List.of() : sets;
  }

  public boolean isWatching() {
    return informer.isWatching();
  }

  @Override
  public void close() {
    informer.close();
  }
}
