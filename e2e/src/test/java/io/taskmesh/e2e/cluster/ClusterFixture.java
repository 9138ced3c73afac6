package io.taskmesh.e2e.cluster;

import static org.assertj.core.api.Assumptions.assumeThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.taskmesh.e2e.cluster.install.TaskmeshInstall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A local cluster for a test class: started (root only, skipped otherwise), the chart installed, then closed. */
final class ClusterFixture implements AutoCloseable {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  final LocalCluster cluster;

  private ClusterFixture(LocalCluster cluster) {
    this.cluster = cluster;
  }

  /** Skips the test unless the cluster can run here (root, iproute2, iptables). */
  static ClusterFixture start(String name, boolean zipkin) throws Exception {
    Optional<String> unavailable = LocalCluster.unavailableReason();
    assumeThat(unavailable).as("the local cluster needs root: %s", unavailable.orElse("")).isEmpty();
    Path work = Files.createTempDirectory("cluster-" + name);
    Optional<Path> zipkinJar = zipkin ? Optional.of(Path.of(System.getProperty("taskmesh.zipkin.jar"))) : Optional.empty();
    return new ClusterFixture(LocalCluster.start(new LocalCluster.Settings(name, 0, work, zipkinJar)));
  }

  KubernetesClient api() {
    return cluster.client();
  }

  GenericKubernetesResource taskService(String namespace, String name) {
    return api().genericKubernetesResources(TaskmeshInstall.TASK_SERVICE_API_VERSION, "TaskService")
        .inNamespace(namespace).withName(name).get();
  }

  @Override
  public void close() {
    cluster.close();
  }
}
