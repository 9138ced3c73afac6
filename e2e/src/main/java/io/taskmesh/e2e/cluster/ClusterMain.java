package io.taskmesh.e2e.cluster;

import io.taskmesh.e2e.cluster.install.ChartInstall;
import io.taskmesh.e2e.cluster.install.TaskmeshInstall;
import io.taskmesh.e2e.cluster.story.Story;
import io.taskmesh.e2e.local.FileTrees;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./taskmesh} as root, on the local cluster. {@code demo} tells the {@link Story} (install, calls, failures,
 * config change, blue-green, rollout) and stops; {@code up} installs the chart and the example TaskService as a
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

  @Option(names = "--cluster-name", defaultValue = "taskmesh",
      description = "names the network namespaces (tmk-<name>-*) and the host link, [a-z0-9]{1,11} (default ${DEFAULT-VALUE})")
  String clusterName;

  @Option(names = "--api-server-port", defaultValue = "" + ClusterPorts.API_SERVER,
      description = "the API server's port, 0 for any free one (default ${DEFAULT-VALUE})")
  int apiServerPort;

  private static final Duration DEMO_PROBE_PERIOD = Duration.ofSeconds(1);

  /** What to do once the cluster runs. */
  enum Mode { up, demo }

  @Parameters(index = "0", defaultValue = "up",
      description = "up: install and run until Ctrl-C; demo: tell the story on the cluster, then stop (default ${DEFAULT-VALUE})")
  Mode mode;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ClusterMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Optional<Path> zipkin = noTracing ? Optional.empty()
        : Optional.of(Path.of(System.getProperty("taskmesh.zipkin.jar", "e2e/target/zipkin/zipkin-server-exec.jar")));
    long start = System.nanoTime();
    Path repository = Path.of("").toAbsolutePath();
    // helm template needs no cluster: the chart renders while the cluster starts
    CompletableFuture<ChartInstall.Rendered> chart = CompletableFuture.supplyAsync(() ->
        TaskmeshInstall.renderChart(repository, Story.chartValues(!noTracing)));
    // a run starts clean: pods' volumes (an H2 store on its PVC) and logs of the last run would come back
    FileTrees.delete(workDir.toAbsolutePath());
    // the demo's one setting of the node: probes run at least every second, so a pod is seen ready within a
    // second of being so (the sidecar's readiness probe runs every 5 s); `up` probes as a kubelet does
    Optional<Duration> probePeriodCap = mode == Mode.demo ? Optional.of(DEMO_PROBE_PERIOD) : Optional.empty();
    probePeriodCap.ifPresent(cap -> System.out.println("Demo setting: the node runs every probe at least every "
        + cap.toSeconds() + " s, whatever its periodSeconds (the product's probes are unchanged)."));
    LocalCluster cluster = LocalCluster.start(new LocalCluster.Settings(clusterName, apiServerPort,
        workDir.toAbsolutePath(), zipkin, probePeriodCap));
    Teardown teardown = Teardown.onExit(cluster, System.out);
    // PostgreSQL starts beside the install; the story's TaskService is the first to need it
    cluster.externalServices().startPostgres();
    System.out.printf("Local cluster started in %.1f s (API server, controllers, node; Zipkin and PostgreSQL still"
        + " starting beside the install)%n", (System.nanoTime() - start) / 1e9);
    if (mode == Mode.demo) {
      Story story = new Story(cluster, repository, chart, System.out);
      teardown.whenInterrupted(story::stop);
      int failed = story.run();
      if (story.stopped()) {
        teardown.now(); // waits for the interruption's teardown; the JVM then exits with the signal's status
        return 130;
      }
      printWhere(cluster);
      long stopping = System.nanoTime();
      teardown.now();
      System.out.printf("Cluster removed in %.1f s (pods killed: the story is over, nothing is left to drain).%n",
          (System.nanoTime() - stopping) / 1e9);
      return failed == 0 ? 0 : 1;
    }
    Story.printApplied(System.out, "helm install taskmesh helm/taskmesh -n taskmesh-system --create-namespace"
        + " " + Story.chartOptions(!noTracing), ChartInstall.install(cluster.client(), chart.join()));
    Story.printApplied(System.out, "kubectl apply -f examples/taskservice.yaml",
        TaskmeshInstall.applyExample(cluster.client(), repository));
    printWhere(cluster);
    System.out.println("export KUBECONFIG=" + cluster.kubeconfig());
    System.out.println("kubectl get ts,deploy,pods,svc,endpointslices -A");
    System.out.println("Ctrl-C removes the cluster (pods killed, network namespaces and all).");
    new CountDownLatch(1).await();
    return 0;
  }

  private void printWhere(LocalCluster cluster) {
    ExternalServices.Postgres postgres = cluster.externalServices().postgres();
    System.out.println();
    System.out.println("API server    " + cluster.apiServerUrl() + "  (pods: " + cluster.access().url() + "; kubeconfig "
        + cluster.kubeconfig() + ")");
    System.out.println("pods          " + cluster.network().podCidr() + "   services " + cluster.network().serviceCidr()
        + "   (this host routes both through the node's namespace)");
    var gateway = cluster.client().services().inNamespace(TaskmeshInstall.NAMESPACE).withName("taskmesh-gateway").get();
    if (gateway != null) {
      System.out.println("gateway       http://" + gateway.getSpec().getClusterIP() + ":8080/api/tasks   (service "
          + "taskmesh-gateway." + TaskmeshInstall.NAMESPACE + ")");
    }
    cluster.zipkin().ifPresent(uri -> System.out.println("zipkin        " + uri + "/zipkin/   (in the cluster: zipkin.default:9411)"));
    System.out.println("postgresql    " + postgres.hostJdbcUrl() + "   (in the cluster: " + postgres.service().name() + "."
        + postgres.service().namespace() + ":" + postgres.service().port() + "; for spec.database.postgresUrlSecret:"
        + " kubectl create secret generic task-service-db --from-literal=url='" + postgres.clusterJdbcUrl() + "')");
    System.out.println("pod logs      " + workDir.resolve("node/pods"));
    System.out.println();
  }
}
