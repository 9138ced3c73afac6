package io.taskmesh.e2e.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.taskmesh.e2e.cluster.install.TaskmeshInstall;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./taskmesh up} on the local cluster: starts it, installs the chart and the example TaskService as a
 * user would, prints what it applied and where everything listens, writes a kubeconfig, runs until Ctrl-C.
 */
@Command(name = "taskmesh-cluster", mixinStandardHelpOptions = true,
    description = "Run taskmesh on a local Kubernetes cluster (root: pods run in network namespaces).")
public final class ClusterMain implements Callable<Integer> {
  @Option(names = "--work-dir", defaultValue = "e2e/target/cluster",
      description = "pod files and logs, the kubeconfig (default ${DEFAULT-VALUE})")
  Path workDir;

  @Option(names = "--no-tracing", description = "do not start Zipkin")
  boolean noTracing;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ClusterMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Optional<Path> zipkin = noTracing ? Optional.empty()
        : Optional.of(Path.of(System.getProperty("taskmesh.zipkin.jar", "e2e/target/zipkin/zipkin-server-exec.jar")));
    LocalCluster cluster = LocalCluster.start(new LocalCluster.Settings("taskmesh", ClusterPorts.API_SERVER,
        workDir.toAbsolutePath(), zipkin));
    Runtime.getRuntime().addShutdownHook(new Thread(cluster::close, "stop-local-cluster"));
    ExternalServices.Postgres postgres = cluster.externalServices().postgres();
    Path repository = Path.of("").toAbsolutePath();
    print("helm install taskmesh helm/taskmesh -n taskmesh-system --create-namespace",
        TaskmeshInstall.installChart(cluster.client(), repository));
    print("kubectl apply -f examples/taskservice.yaml", TaskmeshInstall.applyExample(cluster.client(), repository));
    System.out.println();
    System.out.println("API server    " + cluster.apiServerUrl() + "  (pods: " + cluster.access().url() + ")");
    System.out.println("pods          " + cluster.network().podCidr() + "   services " + cluster.network().serviceCidr());
    cluster.zipkin().ifPresent(uri -> System.out.println("zipkin        " + uri + "/zipkin/   (in the cluster: zipkin.default:9411)"));
    System.out.println("postgresql    " + postgres.hostJdbcUrl() + "   (in the cluster: " + postgres.service().name() + "."
        + postgres.service().namespace() + ":" + postgres.service().port() + "; for spec.database.postgresUrlSecret:"
        + " kubectl create secret generic task-service-db --from-literal=url='" + postgres.clusterJdbcUrl() + "')");
    System.out.println("pod logs      " + workDir.resolve("node/pods"));
    System.out.println();
    System.out.println("export KUBECONFIG=" + cluster.kubeconfig());
    System.out.println("kubectl get ts,deploy,pods,svc,endpointslices -A");
    System.out.println("Ctrl-C stops the cluster (pods, network namespaces and all).");
    new CountDownLatch(1).await();
    return 0;
  }

  private static void print(String command, List<HasMetadata> applied) {
    System.out.println("$ " + command);
    applied.forEach(object -> System.out.println("  " + object.getKind().toLowerCase() + "/" + object.getMetadata().getName()
        + (object.getMetadata().getNamespace() == null ? "" : " (" + object.getMetadata().getNamespace() + ")")));
  }
}
