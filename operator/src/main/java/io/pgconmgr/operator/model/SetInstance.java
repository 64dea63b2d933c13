package io.pgconmgr.operator.model;

import io.pgconmgr.protocol.conf.BackendInstance;

/**
 * One instance of an InstanceSet after resolution: a listed instance or a selected pod, with the
 * number it has in conmgr.conf.
 *
 * @param number       instance number N in conmgr.conf
 * @param name         pod name for selected pods, else host or hostaddr (used in status and events)
 * @param host         backend_host, null when absent
 * @param hostaddr     backend_hostaddr, null when absent
 * @param port         backend_port
 * @param watchdogPort watchdog_port
 */
public record SetInstance(int number, String name, String host, String hostaddr, int port, int watchdogPort) {

  /** Address conmgr (and the operator) connect to: hostaddr wins over host. */
  public String address() {
    return hostaddr != null ? hostaddr : host;
  }

  public BackendInstance toBackend() {
    return new BackendInstance(number, host, hostaddr, port, watchdogPort);
  }
}
