package io.pgconmgr.operator.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgconmgr.operator.crd.InstanceSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which image each sidecar gets: the InstanceSet's spec.images, else the operator's environment, else built in. */
class SidecarImagesTest {
  private static final Map<String, String> CHART_ENV = Map.of(
      "PGCONMGR_CONMGR_IMAGE", "registry.example/pgconmgr/conmgr:7.1",
      "PGCONMGR_WATCHDOG_IMAGE", "registry.example/pgconmgr/watchdog:7.1");

  @Test
  void specImageWinsOverTheOperatorsEnvironment() {
    InstanceSet set = set("""
        spec:
          instances: [{host: pg}]
          images: {conmgr: mirror.example/conmgr:patched, watchdog: mirror.example/watchdog:patched}
        """);
    SidecarImages defaults = SidecarImages.fromEnvironment(CHART_ENV);
    assertThat(Sidecars.conmgr(set, defaults).getImage()).isEqualTo("mirror.example/conmgr:patched");
    assertThat(Sidecars.watchdog(set, defaults).getImage()).isEqualTo("mirror.example/watchdog:patched");
  }

  @Test
  void environmentFillsWhatTheSpecLeavesOutOneImageAtATime() {
    InstanceSet set = set("""
        spec:
          instances: [{host: pg}]
          images: {watchdog: mirror.example/watchdog:patched, pullPolicy: Always}
        """);
    SidecarImages defaults = SidecarImages.fromEnvironment(CHART_ENV);
    assertThat(Sidecars.conmgr(set, defaults).getImage()).isEqualTo("registry.example/pgconmgr/conmgr:7.1");
    assertThat(Sidecars.conmgr(set, defaults).getImagePullPolicy()).isEqualTo("Always");
    assertThat(Sidecars.watchdog(set, defaults).getImage()).isEqualTo("mirror.example/watchdog:patched");

    InstanceSet bare = set("spec: {instances: [{host: pg}]}");
    assertThat(Sidecars.conmgr(bare, defaults).getImage()).isEqualTo("registry.example/pgconmgr/conmgr:7.1");
    assertThat(Sidecars.watchdog(bare, defaults).getImage()).isEqualTo("registry.example/pgconmgr/watchdog:7.1");
    assertThat(Sidecars.watchdog(bare, defaults).getImagePullPolicy()).isEqualTo("IfNotPresent");
  }

  @Test
  void builtInImagesWhenNeitherSpecNorEnvironmentNamesOne() {
    InstanceSet bare = set("spec: {instances: [{host: pg}]}");
    for (Map<String, String> env : java.util.List.of(Map.<String, String>of(),
        Map.of("PGCONMGR_CONMGR_IMAGE", " ", "PGCONMGR_WATCHDOG_IMAGE", ""))) {
      SidecarImages defaults = SidecarImages.fromEnvironment(env);
      assertThat(defaults).as("defaults from %s", env).isEqualTo(SidecarImages.BUILT_IN);
      assertThat(Sidecars.conmgr(bare, defaults).getImage()).isEqualTo("ghcr.io/pgconmgr/conmgr:0.1.0");
      assertThat(Sidecars.watchdog(bare, defaults).getImage()).isEqualTo("ghcr.io/pgconmgr/watchdog:0.1.0");
    }
  }

  private static InstanceSet set(String yaml) {
    InstanceSet set = Serialization.unmarshal("apiVersion: pgconmgr.io/v1alpha1\nkind: InstanceSet\n" + yaml,
        InstanceSet.class);
    set.setMetadata(new ObjectMetaBuilder().withName("orders-db").withNamespace("shop").build());
    return set;
  }
}
