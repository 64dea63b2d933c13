package io.pgconmgr.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.reconciler.InstanceSetReconciler;
import io.pgconmgr.operator.status.InstanceObserver;
import java.time.Clock;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Builds the JOSDK operator with the InstanceSet controller, by hand: the same wiring runs in
 * {@link OperatorMain} against a cluster and in the tests against Fabric8's mock API server.
 *
 * @param client            the Kubernetes client (not closed when the operator stops)
 * @param serverSideApply   patch status and dependents with server-side apply (real clusters); false
 *                          uses create/update and merge patches (the CRUD mock has no SSA)
 * @param namespaces        namespaces to watch; empty for all
 * @param observerFactory   builds the watchdog observer around the listener that triggers reconciles
 * @param leaderElection    null to reconcile as soon as started; else reconcile only while holding the lease
 *                          (informers start either way, so a standby's caches are warm when it takes over)
 */
public record ControllerWiring(KubernetesClient client, boolean serverSideApply, Set<String> namespaces,
    Function<Consumer<ResourceID>, InstanceObserver> observerFactory, Metrics metrics,
    LeaderElectionConfiguration leaderElection) {

  /** Without leader election: one operator, or a test. */
  public ControllerWiring(KubernetesClient client, boolean serverSideApply, Set<String> namespaces,
      Function<Consumer<ResourceID>, InstanceObserver> observerFactory, Metrics metrics) {
    this(client, serverSideApply, namespaces, observerFactory, metrics, null);
  }

  /** The operator, registered but not started, and the observer it owns. */
  public record Built(Operator operator, InstanceObserver observer) implements AutoCloseable {
    public Built start() {
      operator.start();
      return this;
    }

    @Override
    public void close() {
      operator.stop();
      observer.close();
    }
  }

  public Built build() {
    Operator operator = new Operator(o -> o
        .withKubernetesClient(client)
        .withCloseClientOnStop(false)
        .checkingCRDAndValidateLocalModel(false)
        .withUseSSAToPatchPrimaryResource(serverSideApply)
        .withSSABasedCreateUpdateMatchForDependentResources(serverSideApply)
        .withMetrics(metrics != null ? metrics : Metrics.NOOP)
        .withLeaderElectionConfiguration(leaderElection));
    SimpleInboundEventSource<InstanceSet> changes = new SimpleInboundEventSource<>("watchdog-observations");
    InstanceObserver observer = observerFactory.apply(changes::propagateEvent);
    var reconciler = new InstanceSetReconciler(observer, changes, new EventRecorder(client, "pgconmgr-operator"),
        Clock.systemUTC());
    operator.register(reconciler, c -> {
      if (!namespaces.isEmpty()) {
        c.settingNamespaces(namespaces);
      }
    });
    return new Built(operator, observer);
  }
}
