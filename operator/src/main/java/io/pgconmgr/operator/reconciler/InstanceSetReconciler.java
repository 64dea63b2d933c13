package io.pgconmgr.operator.reconciler;

import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.pgconmgr.operator.EventRecorder;
import io.pgconmgr.operator.crd.InstanceSet;
import io.pgconmgr.operator.crd.InstanceSetStatus;
import io.pgconmgr.operator.crd.InstanceStatus;
import io.pgconmgr.operator.model.ConmgrPods;
import io.pgconmgr.operator.model.DesiredConfig;
import io.pgconmgr.operator.model.InstanceSetResources;
import io.pgconmgr.operator.model.SetInstances;
import io.pgconmgr.operator.status.InstanceObserver;
import io.pgconmgr.operator.status.StatusAggregator;
import io.pgconmgr.operator.status.StatusEvent;
import io.pgconmgr.operator.status.StatusUpdate;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles an InstanceSet in a fixed order: observe (its PostgreSQL pods), derive and validate the
 * config (pure model), act (the ConfigMaps, the heartbeat sessions), then write the status when it differs.
 * Reconciliations are also triggered by pod changes and by what the watchdogs report.
 */
@Workflow(explicitInvocation = true, dependents = {
    @Dependent(name = "conmgr-config", type = ConmgrConfigMap.class, reconcilePrecondition = ConmgrConfigMap.HasContent.class),
    @Dependent(name = "watchdog-config", type = WatchdogConfigMap.class)})
@ControllerConfiguration(name = InstanceSetReconciler.NAME,
    maxReconciliationInterval = @MaxReconciliationInterval(interval = 5, timeUnit = TimeUnit.MINUTES))
public class InstanceSetReconciler implements Reconciler<InstanceSet>, Cleaner<InstanceSet> {
  public static final String NAME = "instanceset";
  static final String PODS = "postgres-pods";
  private static final Logger LOG = LoggerFactory.getLogger(InstanceSetReconciler.class);

  private final InstanceObserver observer;
  private final SimpleInboundEventSource<InstanceSet> observations;
  private final EventRecorder events;
  private final Clock clock;

  /**
   * @param observer     heartbeat sessions with the watchdogs
   * @param observations the event source the observer's change listener feeds
   */
  public InstanceSetReconciler(InstanceObserver observer, SimpleInboundEventSource<InstanceSet> observations,
      EventRecorder events, Clock clock) {
    this.observer = observer;
    this.observations = observations;
    this.events = events;
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, InstanceSet>> prepareEventSources(EventSourceContext<InstanceSet> context) {
    var pods = InformerEventSourceConfiguration.from(Pod.class, InstanceSet.class)
        .withName(PODS)
        .withSecondaryToPrimaryMapper((Pod pod) -> context.getPrimaryCache()
            .list(pod.getMetadata().getNamespace(), set -> concerns(set, pod))
            .map(ResourceID::fromResource)
            .collect(Collectors.toSet()))
        .withOnUpdateFilter(InstanceSetReconciler::podChangeMatters)
        .withNamespacesInheritedFromController()
        .build();
    return List.of(new InformerEventSource<>(pods, context), observations);
  }

  @Override
  public UpdateControl<InstanceSet> reconcile(InstanceSet set, Context<InstanceSet> context) {
    ResourceID id = ResourceID.fromResource(set);
    // Observe: the PostgreSQL pods and the application pods of the set, from the informer's cache.
    List<Pod> pods = pods(set, context);
    // Derive and validate (pure).
    DesiredConfig desired = DesiredConfig.of(set, pods);
    if (!desired.isValid()) {
      LOG.warn("conmgr.conf not written: {}", desired.errors());
    }
    desired.warnings().forEach(w -> LOG.warn("conmgr.conf: {}", w));
    // The hash of the conmgr.conf in the ConfigMap: the new one, or the last good one that stays.
    String hash = desired.isValid() ? DesiredConfig.hash(desired.conmgrText())
        : set.getStatus() != null ? set.getStatus().getConmgrConfHash() : null;
    List<String> stale = hash == null ? List.of() : ConmgrPods.stale(set.getMetadata().getName(), hash, pods);

    // Act: the ConfigMaps, then the heartbeat sessions (non-blocking: they connect in the background).
    context.managedWorkflowAndDependentResourceContext().put(DesiredConfig.class, desired);
    context.managedWorkflowAndDependentResourceContext().reconcileManagedWorkflow();
    if (desired.isValid()) {
      observer.track(id, desired.instances(), desired.timing());
    } else if (desired.instances().isEmpty()) {
      observer.forget(id);
    }
    // else the sessions keep the last valid instances and timing, as the ConfigMap keeps the last valid file.

    // Write status, only when it differs.
    StatusUpdate update = StatusAggregator.aggregate(set.getStatus(), set.getMetadata().getGeneration(), desired,
        observer.observations(id), hash, stale, clock.instant());
    for (StatusEvent e : update.events()) {
      LOG.info("{}: {}", e.reason(), e.message());
      events.record(reference(set), e.type(), e.reason(), e.message());
    }
    if (!update.status().equals(set.getStatus())) {
      writeStatus(set, update.status(), context);
    }
    return UpdateControl.noUpdate();
  }

  /**
   * Writes the whole status and puts the result in JOSDK's cache, so the next reconciliation (often
   * right behind, on a pod or watchdog event) compares with what was written, not with a stale copy:
   * no duplicate events, and no JSON Patch computed against an outdated list of instances.
   */
  private static void writeStatus(InstanceSet set, InstanceSetStatus status, Context<InstanceSet> context) {
    if (context.getControllerConfiguration().getConfigurationService().useSSAToPatchPrimaryResource()) {
      InstanceSet fresh = new InstanceSet();
      fresh.getMetadata().setName(set.getMetadata().getName());
      fresh.getMetadata().setNamespace(set.getMetadata().getNamespace());
      fresh.setStatus(status);
      PrimaryUpdateAndCacheUtils.ssaPatchStatusAndCacheResource(set, fresh, context);
    } else {
      // A replace of the status subresource, retried on conflict: a merge patch would do too on a real
      // API server, but Fabric8's mock appends to lists in merge patches instead of replacing them.
      PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(set, context, s -> {
        s.setStatus(status);
        return s;
      });
    }
  }

  @Override
  public DeleteControl cleanup(InstanceSet set, Context<InstanceSet> context) {
    observer.forget(ResourceID.fromResource(set));
    // The ConfigMaps carry owner references: Kubernetes' garbage collector removes them.
    return DeleteControl.defaultDelete();
  }

  static DesiredConfig desired(Context<InstanceSet> context) {
    return context.managedWorkflowAndDependentResourceContext().getMandatory(DesiredConfig.class, DesiredConfig.class);
  }

  /** The pods of the set's namespace that are its PostgreSQL pods or carry its inject label. */
  @SuppressWarnings("unchecked")
  private static List<Pod> pods(InstanceSet set, Context<InstanceSet> context) {
    var pods = (InformerEventSource<Pod, InstanceSet>) context.eventSourceRetriever().getEventSourceFor(Pod.class, PODS);
    return pods.list(set.getMetadata().getNamespace(), pod -> concerns(set, pod)).toList();
  }

  /**
   * Only changes of what the operator reads from a pod start a reconciliation: not the readiness
   * flaps and container restarts of every application pod.
   */
  static boolean podChangeMatters(Pod now, Pod before) {
    return !podFacts(now).equals(podFacts(before));
  }

  private static List<Object> podFacts(Pod pod) {
    var meta = pod.getMetadata();
    var spec = pod.getSpec();
    var status = pod.getStatus();
    return Arrays.asList(meta.getLabels(), meta.getAnnotations(), meta.getDeletionTimestamp(),
        spec == null ? null : spec.getHostname(), spec == null ? null : spec.getSubdomain(),
        status == null ? null : status.getPhase(), status == null ? null : status.getPodIP());
  }

  /**
   * A pod event matters to a set that selects the pod, that had it as an instance (labels removed), or
   * whose conmgr the pod opted in to (the count of pods with an older conmgr.conf).
   */
  private static boolean concerns(InstanceSet set, Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    if (labels != null && set.getMetadata().getName().equals(labels.get(InstanceSetResources.INJECT_LABEL))) {
      return true;
    }
    if (set.getSpec().getPostgresSelector() == null) {
      return false;
    }
    if (SetInstances.selects(set.getSpec().getPostgresSelector(), pod)) {
      return true;
    }
    String name = pod.getMetadata().getName();
    return set.getStatus() != null && set.getStatus().getInstances().stream()
        .map(InstanceStatus::getName).anyMatch(name::equals);
  }

  private static ObjectReference reference(InstanceSet set) {
    return new ObjectReferenceBuilder().withApiVersion(set.getApiVersion()).withKind(set.getKind())
        .withNamespace(set.getMetadata().getNamespace()).withName(set.getMetadata().getName())
        .withUid(set.getMetadata().getUid()).withResourceVersion(set.getMetadata().getResourceVersion()).build();
  }
}
