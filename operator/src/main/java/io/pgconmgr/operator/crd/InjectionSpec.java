package io.pgconmgr.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** How conmgr is injected into the application pods that opt in with the pgconmgr.io/inject label. */
public class InjectionSpec {

  @JsonPropertyDescription("Set PGHOST=127.0.0.1 and PGPORT=<conmgr port> on the application containers that do "
      + "not set them, so libpq clients go through conmgr unchanged")
  @Default("true")
  private Boolean setPgEnv = Boolean.TRUE;

  public Boolean getSetPgEnv() { return setPgEnv; }
  public void setSetPgEnv(Boolean setPgEnv) { this.setPgEnv = setPgEnv; }
}
