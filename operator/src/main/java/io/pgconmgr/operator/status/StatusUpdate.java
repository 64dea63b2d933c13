package io.pgconmgr.operator.status;

import io.pgconmgr.operator.crd.InstanceSetStatus;
import java.util.List;

/** The status to write and the events to emit for one reconciliation. */
public record StatusUpdate(InstanceSetStatus status, List<StatusEvent> events) {
}
