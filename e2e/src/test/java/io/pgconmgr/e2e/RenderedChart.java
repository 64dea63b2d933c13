package io.pgconmgr.e2e;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/** The chart rendered by a real Helm (helm-java) into Fabric8 objects, with lookups by kind. */
final class RenderedChart {

  static final String RELEASE = "pgconmgr";
  static final String NAMESPACE = "pgconmgr-system";
  /** A Kubernetes version that has native sidecars; the chart's kubeVersion requires >= 1.29. */
  static final String KUBE_VERSION = "1.31.0";

  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  final String yaml;
  final List<HasMetadata> objects;

  private RenderedChart(String yaml, List<HasMetadata> objects) {
    this.yaml = yaml;
    this.objects = objects;
  }

  static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("helm/pgconmgr"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("helm/pgconmgr not found above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  static Path chartDir() {
    return repoRoot().resolve("helm/pgconmgr");
  }

  /** Renders with the chart's defaults plus, when given, one of the chart's ci/ values files. */
  static RenderedChart render(String ciValuesFile) {
    return render(ciValuesFile, Map.of());
  }

  static RenderedChart render(String ciValuesFile, Map<String, Object> sets) {
    return render(template -> {
      if (ciValuesFile != null) {
        template.withValuesFile(chartDir().resolve("ci").resolve(ciValuesFile));
      }
      sets.forEach(template::set);
    });
  }

  static RenderedChart render(Consumer<TemplateCommand> options) {
    TemplateCommand template = new Helm(chartDir()).template()
        .withName(RELEASE)
        .withNamespace(NAMESPACE)
        .withKubeVersion(KUBE_VERSION)
        // helm-java's template resolves Helm's lookup against a cluster (the Helm CLI does not);
        // there is none here, so the certificate is always generated, as `helm template` does.
        .set("webhook.keepCertificateOnUpgrade", false);
    options.accept(template);
    String yaml = template.call();
    return new RenderedChart(yaml, parse(yaml));
  }

  /** Every YAML document that holds something must be a Kubernetes object. */
  static List<HasMetadata> parse(String yaml) {
    List<HasMetadata> parsed = new ArrayList<>();
    for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
      if (document.lines().allMatch(line -> line.isBlank() || line.strip().startsWith("#"))) {
        continue;
      }
      Object object = Serialization.unmarshal(document);
      if (!(object instanceof HasMetadata resource)) {
        throw new AssertionError("not a Kubernetes object: " + object + "\n" + document);
      }
      parsed.add(resource);
    }
    return List.copyOf(parsed);
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> type) {
    List<T> found = all(type);
    if (found.size() != 1) {
      throw new AssertionError("expected one " + type.getSimpleName() + ", found " + found.size());
    }
    return found.get(0);
  }

  List<HasMetadata> ofKind(String kind) {
    return objects.stream().filter(o -> kind.equals(o.getKind())).toList();
  }
}
