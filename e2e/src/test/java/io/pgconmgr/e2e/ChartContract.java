package io.pgconmgr.e2e;

/** What the chart and the operator must agree on, in one place for the chart tests. */
final class ChartContract {
  static final String WEBHOOK_PATH = "/mutate-pods";
  static final int WATCHDOG_PORT = 27545;

  private ChartContract() {
  }
}
