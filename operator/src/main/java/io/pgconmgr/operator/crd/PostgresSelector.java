package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.pgconmgr.protocol.conf.ConmgrConf;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Selects the PostgreSQL pods of the set by label. Their watchdogs listen on {@code spec.watchdog.port},
 * so conmgr's watchdog_port for a selected pod is that value.
 */
public class PostgresSelector {

  @JsonPropertyDescription("Labels a pod must carry (all of them) to be an instance of this set")
  @Required
  @Size(min = 1)
  private Map<String, String> matchLabels = new LinkedHashMap<>();

  @JsonPropertyDescription("Port of the postmaster in the selected pods (backend_port)")
  @Min(1)
  @Max(65535)
  @Default("27500")
  private Integer port = ConmgrConf.DEFAULT_BACKEND_PORT;

  @JsonPropertyDescription("Container running PostgreSQL, which shares the pgx_stat_watchdog volume with the "
      + "watchdog; the pod's first container when absent")
  private String containerName;

  public PostgresSelector() {
  }

  public PostgresSelector(Map<String, String> matchLabels, int port) {
    this.matchLabels = new LinkedHashMap<>(matchLabels);
    this.port = port;
  }

  public Map<String, String> getMatchLabels() { return matchLabels; }
  public void setMatchLabels(Map<String, String> matchLabels) { this.matchLabels = matchLabels == null ? new LinkedHashMap<>() : matchLabels; }
  public Integer getPort() { return port; }
  public void setPort(Integer port) { this.port = port == null ? ConmgrConf.DEFAULT_BACKEND_PORT : port; }
  public String getContainerName() { return containerName; }
  public void setContainerName(String containerName) { this.containerName = containerName; }
}
