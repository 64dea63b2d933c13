package io.pgconmgr.e2e;

/** What the chart and the operator must agree on, in one place for the chart tests. */
final class ChartContract {
  static final String WEBHOOK_PATH = "/mutate-pods";
  static final int WATCHDOG_PORT = 27545;
  /** The unprivileged user of the three images, which the chart and the injected sidecars run as. */
  static final int IMAGE_UID = 65532;

  private ChartContract() {
  }
}
