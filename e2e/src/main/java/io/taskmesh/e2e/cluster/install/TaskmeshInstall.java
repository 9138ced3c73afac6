package io.taskmesh.e2e.cluster.install;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The product as its README installs it: the chart with default values, then {@code examples/taskservice.yaml}. */
public final class TaskmeshInstall {
  public static final String RELEASE = "taskmesh";
  public static final String NAMESPACE = "taskmesh-system";
  public static final String TASK_SERVICE_API_VERSION = "taskmesh.io/v1alpha1";

  private TaskmeshInstall() {}

  /** {@code helm install taskmesh helm/taskmesh -n taskmesh-system --create-namespace}. */
  public static List<HasMetadata> installChart(KubernetesClient api, Path repository) {
    return installChart(api, repository, Map.of());
  }

  /** The same with {@code --set key=value} for each of {@code values}. */
  public static List<HasMetadata> installChart(KubernetesClient api, Path repository, Map<String, Object> values) {
    return ChartInstall.install(api, repository.resolve("helm/taskmesh"), RELEASE, NAMESPACE, values);
  }

  /** The chart with {@code values}, rendered for the release taskmesh in taskmesh-system; nothing is applied. */
  public static ChartInstall.Rendered renderChart(Path repository, Map<String, Object> values) {
    return ChartInstall.render(repository.resolve("helm/taskmesh"), RELEASE, NAMESPACE, values);
  }

  /** {@code kubectl apply -f examples/taskservice.yaml} (namespace default). */
  public static List<HasMetadata> applyExample(KubernetesClient api, Path repository) {
    try {
      return ChartInstall.apply(api, Files.readString(repository.resolve("examples/taskservice.yaml")), "default");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
