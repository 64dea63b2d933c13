package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.pgconmgr.protocol.conf.ConmgrConf;

/** One listed PostgreSQL instance: conmgr.conf's backend_host/hostaddr/port and watchdog_port of one number. */
@ValidationRule(value = "has(self.host) || has(self.hostaddr)",
    message = "an instance needs a host or a hostaddr", reason = "FieldValueRequired")
public class InstanceSpec {

  @JsonPropertyDescription("Host name, resolved again at every (re)connect (backend_host)")
  @Pattern("^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
  private String host;

  @JsonPropertyDescription("Literal IPv4 or IPv6 address, used without name resolution; wins over host (backend_hostaddr)")
  @Pattern("^[0-9A-Fa-f.:]{2,45}$")
  private String hostaddr;

  @JsonPropertyDescription("Port of the postmaster (backend_port)")
  @Min(1)
  @Max(65535)
  @Default("27500")
  private Integer port = ConmgrConf.DEFAULT_BACKEND_PORT;

  @JsonPropertyDescription("Port of the instance's watchdog (watchdog_port)")
  @Min(1)
  @Max(65535)
  @Default("27545")
  private Integer watchdogPort = ConmgrConf.DEFAULT_WATCHDOG_PORT;

  public InstanceSpec() {
  }

  public InstanceSpec(String host, String hostaddr, int port, int watchdogPort) {
    this.host = host;
    this.hostaddr = hostaddr;
    this.port = port;
    this.watchdogPort = watchdogPort;
  }

  public String getHost() { return host; }
  public void setHost(String host) { this.host = host; }
  public String getHostaddr() { return hostaddr; }
  public void setHostaddr(String hostaddr) { this.hostaddr = hostaddr; }
  public Integer getPort() { return port; }
  public void setPort(Integer port) { this.port = port == null ? ConmgrConf.DEFAULT_BACKEND_PORT : port; }
  public Integer getWatchdogPort() { return watchdogPort; }
  public void setWatchdogPort(Integer watchdogPort) { this.watchdogPort = watchdogPort == null ? ConmgrConf.DEFAULT_WATCHDOG_PORT : watchdogPort; }
}
