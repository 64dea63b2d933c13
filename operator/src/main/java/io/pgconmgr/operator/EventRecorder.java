package io.pgconmgr.operator;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes core/v1 Kubernetes events; a failure to record an event is logged, never thrown. */
public class EventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  public static final String NORMAL = "Normal";
  public static final String WARNING = "Warning";

  private final KubernetesClient client;
  private final String component;

  public EventRecorder(KubernetesClient client, String component) {
    this.client = client;
    this.component = component;
  }

  /** Records one event about {@code involved} in its namespace. */
  public void record(ObjectReference involved, String type, String reason, String message) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    var event = new EventBuilder()
        .withNewMetadata()
          .withGenerateName(involved.getName() + ".")
          .withNamespace(involved.getNamespace())
        .endMetadata()
        .withInvolvedObject(involved)
        .withType(type)
        .withReason(reason)
        .withMessage(message.length() > 1024 ? message.substring(0, 1021) + "..." : message)
        .withNewSource().withComponent(component).endSource()
        .withReportingComponent(component)
        .withFirstTimestamp(now)
        .withLastTimestamp(now)
        .withCount(1)
        .build();
    try {
      client.v1().events().inNamespace(involved.getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      LOG.warn("could not record event {} on {}/{}: {}", reason, involved.getNamespace(), involved.getName(),
          e.getMessage());
    }
  }
}
