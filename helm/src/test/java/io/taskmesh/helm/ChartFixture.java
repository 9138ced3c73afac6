package io.taskmesh.helm;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The chart under test, rendered by the real Helm engine and parsed into the fabric8 model. */
final class ChartFixture {
  static final Path CHART = Path.of("taskmesh").toAbsolutePath();
  static final Path TOP_LEVEL_CRDS = Path.of("..", "crds").toAbsolutePath().normalize();
  static final String RELEASE = "taskmesh";
  static final String NAMESPACE = "taskmesh-system";
  /** Native sidecars (restartPolicy: Always init containers) are on by default from 1.29. */
  static final String KUBE_VERSION = "v1.31.0";

  private ChartFixture() {}

  static Helm helm() {
    return new Helm(CHART);
  }

  /** Renders the chart with {@code values} set on top of values.yaml and returns every object it makes. */
  static List<HasMetadata> render(Map<String, Object> values) {
    TemplateCommand template = helm().template().withName(RELEASE).withNamespace(NAMESPACE)
        .withKubeVersion(KUBE_VERSION);
    values.forEach(template::set);
    return parse(template.call());
  }

  static List<HasMetadata> parse(String manifest) {
    List<HasMetadata> objects = new ArrayList<>();
    for (String document : manifest.split("(?m)^---\\s*$")) {
      if (document.lines().allMatch(line -> line.isBlank() || line.startsWith("#"))) {
        continue;
      }
      objects.add(Serialization.unmarshal(document, HasMetadata.class));
    }
    return objects;
  }

  @SuppressWarnings("unchecked")
  static <T extends HasMetadata> T only(List<HasMetadata> objects, Class<T> kind) {
    List<HasMetadata> matching = objects.stream().filter(kind::isInstance).toList();
    if (matching.size() != 1) {
      throw new AssertionError("expected one " + kind.getSimpleName() + ", rendered " + matching.size());
    }
    return (T) matching.get(0);
  }
}
