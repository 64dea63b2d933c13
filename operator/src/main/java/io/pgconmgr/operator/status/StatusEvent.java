package io.pgconmgr.operator.status;

/** A Kubernetes event the status change calls for, about the InstanceSet. */
public record StatusEvent(String type, String reason, String message) {
}
