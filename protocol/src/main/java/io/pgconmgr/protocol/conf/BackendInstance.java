package io.pgconmgr.protocol.conf;

/**
 * One PostgreSQL instance of the set, as numbered in conmgr.conf ({@code backend_host<N>} ...).
 *
 * @param number       the instance number N (sparse, any order in the file)
 * @param host         {@code backend_host<N>}, resolved at every (re)connect; null when absent
 * @param hostaddr     {@code backend_hostaddr<N>}, a literal address, wins over host; null when absent
 * @param port         {@code backend_port<N>}, the postmaster's port (default 27500)
 * @param watchdogPort {@code watchdog_port<N>} (default 27545)
 */
public record BackendInstance(int number, String host, String hostaddr, int port, int watchdogPort) {

  /** The address to connect to: hostaddr when given, else host. */
  public String address() {
    return hostaddr != null ? hostaddr : host;
  }
}
