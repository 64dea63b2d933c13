package io.pgconmgr.operator.webhook;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.List;

/** What the injector decided for one pod: a JSON Patch to apply, or why the pod is admitted unchanged. */
public sealed interface InjectionResult {

  /**
   * The pod gets sidecars.
   *
   * @param patch   RFC 6902 operations against the pod as submitted
   * @param summary what was injected, e.g. "conmgr for InstanceSet orders-db"
   */
  record Patched(ArrayNode patch, List<String> summary) implements InjectionResult {
  }

  /**
   * The pod is admitted unchanged.
   *
   * @param reasons why, one sentence each
   * @param notable true when the pod asked for pgconmgr (label or selector) and did not get it, so the
   *                user should hear about it in an event; false for pods that have nothing to do with pgconmgr
   */
  record Skipped(List<String> reasons, boolean notable) implements InjectionResult {
  }
}
