package io.taskmesh.e2e.cluster.story;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.taskmesh.e2e.cluster.ExternalServices;
import io.taskmesh.e2e.cluster.LocalCluster;
import io.taskmesh.e2e.cluster.install.ChartInstall;
import io.taskmesh.e2e.cluster.install.TaskmeshInstall;
import io.taskmesh.e2e.local.MeshMetrics;
import io.taskmesh.e2e.zipkin.Span;
import io.taskmesh.e2e.zipkin.TraceTree;
import io.taskmesh.e2e.zipkin.ZipkinQuery;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * The story of taskmesh told on the local cluster, with what a user types printed before each step: the chart
 * installed, the example TaskService applied and watched until Ready, a call from an injected pod, the gateway,
 * a pod killed, a {@code spec.mesh} change, an outage, a trace, then a blue-green switch of the task service by
 * GRPCRoute weights and a rolling update of the new version, with the calls counted throughout.
 */
public final class Story {
  /**
   * Chart values beyond the defaults: the story calls the mesh through its gateway, from one address (this host),
   * faster than the default 100 requests a minute per client.
   */
  public static final Map<String, Object> CHART_VALUES = Map.of("gateway.enabled", "true",
      "gateway.clientRateLimit.requestsPerMinute", "60000");
  /** {@link #CHART_VALUES} as {@code helm install} options. */
  public static final String CHART_OPTIONS = "--set gateway.enabled=true --set gateway.clientRateLimit.requestsPerMinute=60000";
  private static final String NS = "default";
  private static final int USER = 1;

  private final LocalCluster cluster;
  private final KubernetesClient api;
  private final Path repository;
  private final PrintStream out;
  private final TaskServiceTable table;
  private final List<String> titles = new ArrayList<>();
  private final List<Step> steps = new ArrayList<>();
  private GatewayCalls gateway;
  private String taskId;

  private interface Step {
    void run() throws IOException;
  }

  public Story(LocalCluster cluster, Path repository, PrintStream out) {
    this.cluster = cluster;
    this.api = cluster.client();
    this.repository = repository;
    this.out = out;
    this.table = new TaskServiceTable(api, out);
    step("Install the chart, apply the example TaskService, watch it become Ready", this::install);
    step("Call the service from a pod the webhook injected (a plain client dialling task-service:50051)",
        this::callFromInjectedPod);
    step("The gateway: the same service as REST/JSON from outside the mesh", this::throughTheGateway);
    step("Kill the pod: the deployment controller replaces it, the EndpointSlice follows", this::killPod);
    step("Change spec.mesh: the sidecar reloads, no pod restarts, status shows the new config applied",
        this::changeMesh);
    step("An outage: the gateway's circuit to task-service opens, then closes when it is back", this::outage);
    step("One request's trace, fetched back from Zipkin", this::trace);
    step("Blue-green: two versions behind the task-service Service, GRPCRoute weights 100/0 -> 50/50 -> 0/100",
        this::blueGreen);
    step("A rolling update of the new version under load", this::rollout);
  }

  private void step(String title, Step step) {
    titles.add(title);
    steps.add(step);
  }

  /** Runs every step; a step that fails is reported and the story goes on. Returns the steps that failed. */
  public int run() {
    long start = System.nanoTime();
    int failed = 0;
    for (int i = 0; i < steps.size(); i++) {
      out.printf("%n[%d/%d] %s%n", i + 1, steps.size(), titles.get(i));
      long stepStart = System.nanoTime();
      try {
        steps.get(i).run();
      } catch (IOException | RuntimeException e) {
        failed++;
        out.println("  this step failed: " + e);
      }
      out.printf("      (%.1f s)%n", (System.nanoTime() - stepStart) / 1e9);
    }
    out.printf("%nStory told in %.1f s%s.%n", (System.nanoTime() - start) / 1e9,
        failed == 0 ? "" : ", " + failed + " step(s) failed");
    return failed;
  }

  private void install() {
    printApplied("helm install taskmesh helm/taskmesh -n taskmesh-system --create-namespace " + CHART_OPTIONS,
        TaskmeshInstall.installChart(api, repository, CHART_VALUES));
    ExternalServices.Postgres postgres = cluster.externalServices().postgres();
    api.resource(postgres.urlSecret(NS, "tasks-db")).create();
    out.println("  $ kubectl create secret generic tasks-db --from-literal=url='"
        + postgres.clusterJdbcUrl().replace(postgres.password(), "***") + "'");
    printApplied("kubectl apply -f examples/taskservice.yaml", TaskmeshInstall.applyExample(api, repository));
    require(table.watchUntil(List.of("task-service"), TaskServiceTable::settled, Duration.ofMinutes(4)),
        "the TaskService did not become Ready");
  }

  private void callFromInjectedPod() {
    String script = "exec java -cp \"$(cat /app/jib-classpath-file)\" io.taskmesh.taskservice.cli.TaskCli"
        + " --target task-service:50051 create --title 'hello from a meshed pod' --user-id " + USER;
    out.println("  $ kubectl run task-cli --restart=Never --labels=taskmesh.io/inject=true"
        + " --image=taskmesh/task-service --command -- sh -c '" + script.replace("'", "\\'") + "'");
    Pod created = api.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("task-cli")
        .addToLabels("taskmesh.io/inject", "true").endMetadata()
        .withNewSpec().withRestartPolicy("Never").addNewContainer().withName("task-cli")
        .withImage("taskmesh/task-service:0.1.0").withCommand("sh", "-c", script).endContainer().endSpec().build())
        .create();
    out.println("  the webhook added: " + created.getSpec().getInitContainers().stream()
        .map(c -> c.getName() + ("Always".equals(c.getRestartPolicy()) ? " (native sidecar)" : " (init)"))
        .collect(Collectors.joining(", ")));
    boolean done = waitFor(() -> {
      Pod pod = api.pods().inNamespace(NS).withName("task-cli").get();
      return pod != null && pod.getStatus() != null
          && List.of("Succeeded", "Failed").contains(String.valueOf(pod.getStatus().getPhase()));
    }, Duration.ofMinutes(2));
    Pod pod = api.pods().inNamespace(NS).withName("task-cli").get();
    out.println("  pod task-cli: " + (done ? pod.getStatus().getPhase() : "still " + pod.getStatus().getPhase()));
    out.println("  $ kubectl logs task-cli -c task-cli");
    cluster.kubelet().logTail(NS, "task-cli", "task-cli").ifPresent(log -> log.lines()
        .filter(line -> !line.contains("|-") && !line.isBlank()).forEach(line -> out.println("    " + line)));
    api.pods().inNamespace(NS).withName("task-cli").withGracePeriod(0).delete();
    require(done && "Succeeded".equals(pod.getStatus().getPhase()), "the client pod did not succeed");
  }

  private void throughTheGateway() throws IOException {
    String ip = api.services().inNamespace(TaskmeshInstall.NAMESPACE).withName("taskmesh-gateway").get().getSpec()
        .getClusterIP();
    gateway = new GatewayCalls(URI.create("http://" + ip + ":8080"));
    waitFor(() -> {
      try {
        return gateway.get("/health").statusCode() == 200;
      } catch (IOException e) {
        return false;
      }
    }, Duration.ofMinutes(2));
    String body = "{\"title\":\"Sent as JSON\",\"user_id\":" + USER + "}";
    out.println("  $ curl -s -X POST " + gateway.uri() + "/api/tasks -d '" + body + "'   (service taskmesh-gateway)");
    HttpResponse<String> created = gateway.post("/api/tasks", body, Map.of());
    out.println("    " + created.statusCode() + " " + created.body().strip());
    taskId = gateway.createTask("Read me often", USER, Map.of()).orElseThrow(() ->
        new IllegalStateException("the gateway did not create a task"));
    out.println("  $ curl -s '" + gateway.uri() + "/api/tasks?user_id=" + USER + "'");
    HttpResponse<String> list = gateway.get("/api/tasks?user_id=" + USER);
    list.body().lines().forEach(line -> out.println("    " + abbreviate(line)));
  }

  private void killPod() {
    Pod victim = taskServicePods("task-service").get(0);
    out.println("  $ kubectl delete pod " + victim.getMetadata().getName());
    long start = System.nanoTime();
    api.pods().inNamespace(NS).withName(victim.getMetadata().getName()).delete();
    boolean replaced = waitFor(() -> {
      gateway.getCounted(taskId);
      List<Pod> pods = taskServicePods("task-service");
      return pods.size() == 1 && ready(pods.get(0))
          && !pods.get(0).getMetadata().getUid().equals(victim.getMetadata().getUid())
          && endpoints("task-service").contains(pods.get(0).getStatus().getPodIP());
    }, Duration.ofMinutes(2));
    Pod replacement = taskServicePods("task-service").get(0);
    out.printf("  replaced by %s (%s), ready and the only address in the EndpointSlice after %.1f s%n",
        replacement.getMetadata().getName(), replacement.getStatus().getPodIP(), (System.nanoTime() - start) / 1e9);
    out.println("  calls through the gateway meanwhile (one replica, so some fail): " + gateway.tally());
    require(replaced, "no ready replacement");
  }

  private void changeMesh() {
    String hashBefore = table.row("task-service").config();
    Map<String, Integer> restartsBefore = restarts("task-service");
    out.println("  $ kubectl patch ts task-service --type=merge -p '{\"spec\":{\"mesh\":{\"timeout\":\"4s\"}}}'");
    editTaskService("task-service", spec -> mesh(spec).put("timeout", "4s"));
    boolean applied = table.watchUntil(List.of("task-service"),
        row -> !row.config().equals(hashBefore) && TaskServiceTable.settled(row), Duration.ofMinutes(2));
    Map<String, Integer> restartsAfter = restarts("task-service");
    out.println("  pods and container restarts before " + restartsBefore.values() + ", after " + restartsAfter.values()
        + (restartsAfter.equals(restartsBefore) ? ": the same pods, not restarted" : ": CHANGED"));
    require(applied && restartsAfter.equals(restartsBefore), "the change was not applied in place");
  }

  private void outage() {
    out.println("  $ kubectl scale ts task-service --replicas=0");
    editTaskService("task-service", spec -> spec.put("replicas", 0));
    waitFor(() -> endpoints("task-service").isEmpty(), Duration.ofMinutes(1));
    for (int i = 0; i < 30; i++) {
      gateway.getCounted(taskId);
    }
    out.println("  30 calls through the gateway: " + gateway.tally() + "; its circuit to task-service: " + circuit());
    out.println("  $ kubectl scale ts task-service --replicas=1");
    long start = System.nanoTime();
    editTaskService("task-service", spec -> spec.put("replicas", 1));
    waitFor(() -> !endpoints("task-service").isEmpty(), Duration.ofMinutes(2));
    out.printf("  a pod is ready after %.1f s; the circuit lets trial calls through once its wait in OPEN is over%n",
        (System.nanoTime() - start) / 1e9);
    boolean closed = waitFor(() -> gateway.getCounted(taskId) && circuit().equals("CLOSED"), Duration.ofMinutes(2),
        Duration.ofSeconds(1));
    out.printf("  after %.1f s a call succeeded and the circuit is %s (%s meanwhile)%n",
        (System.nanoTime() - start) / 1e9, circuit(), gateway.tally());
    require(closed, "the circuit did not close");
  }

  private void trace() {
    URI zipkinUri = cluster.zipkin().orElse(null);
    if (zipkinUri == null) {
      out.println("  tracing is off (Zipkin not started)");
      return;
    }
    String traceId = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
    String traceparent = "00-" + traceId + "-" + traceId.substring(0, 16) + "-01";
    out.println("  $ curl -s -X POST " + gateway.uri() + "/api/tasks -H 'traceparent: " + traceparent + "' -d ...");
    try {
      out.println("    " + (gateway.createTask("Trace me", USER, Map.of("traceparent", traceparent)).isPresent()
          ? "created" : "NOT created"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ZipkinQuery zipkin = new ZipkinQuery(zipkinUri);
    List<Span> spans = new ArrayList<>();
    waitFor(() -> {
      spans.clear();
      spans.addAll(zipkin.trace(traceId));
      return !spans.isEmpty();
    }, Duration.ofSeconds(20));
    out.println("  $ curl -s " + zipkinUri + "/api/v2/trace/" + traceId);
    if (spans.isEmpty()) {
      out.println("  no spans within 20 s");
      return;
    }
    TraceTree.render(spans).lines().forEach(line -> out.println("    " + line));
  }

  private void blueGreen() throws IOException {
    try (InputStream crd = Story.class.getResourceAsStream("grpcroutes-crd.yaml")) {
      printApplied("kubectl apply -f <the Gateway API's GRPCRoute CRD>",
          ChartInstall.apply(api, new String(crd.readAllBytes(), StandardCharsets.UTF_8), null));
    }
    // the example's TaskService already runs the Service callers dial (task-service), which the example's own
    // parent Service would be: the two versions and the route go behind it
    List<HasMetadata> canary = new ArrayList<>();
    for (HasMetadata object : ChartInstall.parse(Files.readString(repository.resolve("examples/grpcroute-canary.yaml")))) {
      if (object instanceof GenericKubernetesResource resource && resource.getKind().equals("TaskService")) {
        spec(resource).put("replicas", 1);
        canary.add(resource);
      }
      if (object.getKind().equals("GRPCRoute")) {
        GenericKubernetesResource route = Serialization.unmarshal(Serialization.asJson(object),
            GenericKubernetesResource.class);
        setWeights(route, 100, 0);
        canary.add(route);
      }
    }
    printApplied("kubectl apply -f examples/grpcroute-canary.yaml   (one replica per version; weights 100/0; its"
        + " Service task-service is the example TaskService's)", ChartInstall.create(api, canary, NS));
    require(table.watchUntil(List.of("task-service-v1", "task-service-v2"), TaskServiceTable::settled,
        Duration.ofMinutes(4)), "the two versions did not become Ready");
    shiftWeights(100, 0);
    taskId = gateway.createTask("Blue or green", USER, Map.of()).orElseThrow(() ->
        new IllegalStateException("the gateway did not create a task on the versions"));
    out.println("  calls through the gateway, counted by each version's sidecar (taskmesh_requests_total inbound):");
    for (int[] weights : new int[][] {{100, 0}, {50, 50}, {0, 100}}) {
      shiftWeights(weights[0], weights[1]);
      Map<String, Double> before = servedByVersion();
      for (int i = 0; i < 200; i++) {
        gateway.getCounted(taskId);
      }
      Map<String, Double> after = servedByVersion();
      out.printf("    weights %3d/%-3d  v1 served %3.0f, v2 served %3.0f   (%s)%n", weights[0], weights[1],
          after.get("v1") - before.get("v1"), after.get("v2") - before.get("v2"), gateway.tally());
    }
  }

  private void rollout() {
    out.println("  $ kubectl patch ts task-service-v2 --type=merge -p '{\"spec\":{\"image\":\"taskmesh/task-service:0.2.1\"}}'");
    String oldPod = taskServicePods("task-service-v2").get(0).getMetadata().getName();
    AtomicBoolean loading = new AtomicBoolean(true);
    Thread load = new Thread(() -> {
      while (loading.get()) {
        gateway.getCounted(taskId);
        pause(20);
      }
    }, "story-load");
    load.start();
    try {
      editTaskService("task-service-v2", spec -> spec.put("image", "taskmesh/task-service:0.2.1"));
      boolean rolled = waitFor(() -> {
        List<Pod> pods = taskServicePods("task-service-v2");
        return pods.size() == 1 && ready(pods.get(0)) && !pods.get(0).getMetadata().getName().equals(oldPod)
            && pods.get(0).getSpec().getContainers().stream().anyMatch(c -> c.getImage().endsWith(":0.2.1"))
            && TaskServiceTable.settled(table.row("task-service-v2"));
      }, Duration.ofMinutes(3));
      require(rolled, "the rollout did not finish");
      out.println("  " + oldPod + " -> " + taskServicePods("task-service-v2").get(0).getMetadata().getName());
    } finally {
      loading.set(false);
      try {
        load.join(15_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    GatewayCalls.Tally tally = gateway.tally();
    out.println("  calls through the gateway during the rollout: " + tally);
    require(tally.failed() == 0, "calls failed during the rollout");
  }

  /** Sets the weights of the route's weighted rule (the one with two backends). */
  private void shiftWeights(int v1, int v2) {
    out.printf("  $ kubectl patch grpcroute task-service ... weights %d/%d%n", v1, v2);
    var routes = api.genericKubernetesResources("gateway.networking.k8s.io/v1", "GRPCRoute").inNamespace(NS);
    GenericKubernetesResource route = routes.withName("task-service").edit(r -> {
      setWeights(r, v1, v2);
      return r;
    });
    long generation = route.getMetadata().getGeneration() == null ? 0 : route.getMetadata().getGeneration();
    // the operator has read this generation once its status names it; the gateway's discovery stream follows
    waitFor(() -> routeStatusGeneration(routes.withName("task-service").get()) >= generation, Duration.ofSeconds(30));
    pause(1_000);
  }

  @SuppressWarnings("unchecked")
  private static void setWeights(GenericKubernetesResource route, int v1, int v2) {
    for (Object rule : (List<Object>) spec(route).get("rules")) {
      List<Map<String, Object>> backends = (List<Map<String, Object>>) ((Map<String, Object>) rule).get("backendRefs");
      if (backends != null && backends.size() == 2) {
        backends.get(0).put("weight", v1);
        backends.get(1).put("weight", v2);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static long routeStatusGeneration(GenericKubernetesResource route) {
    Map<String, Object> status = (Map<String, Object>) route.getAdditionalProperties().get("status");
    if (status == null || !(status.get("parents") instanceof List<?> parents) || parents.isEmpty()) {
      return -1;
    }
    List<Map<String, Object>> conditions = (List<Map<String, Object>>) ((Map<String, Object>) parents.get(0))
        .get("conditions");
    return conditions == null ? -1 : conditions.stream().map(c -> c.get("observedGeneration"))
        .filter(Number.class::isInstance).mapToLong(g -> ((Number) g).longValue()).min().orElse(-1);
  }

  /** Inbound calls each version's sidecars counted so far. */
  private Map<String, Double> servedByVersion() {
    return Map.of("v1", inboundCalls("task-service-v1"), "v2", inboundCalls("task-service-v2"));
  }

  private double inboundCalls(String instance) {
    return taskServicePods(instance).stream().filter(Story::ready)
        .mapToDouble(pod -> MeshMetrics.sum(admin(pod), "taskmesh_requests_total", "direction=\"inbound\"")).sum();
  }

  /** The gateway's circuit breaker state for task-service, from its metrics. */
  private String circuit() {
    List<Pod> pods = api.pods().inNamespace(TaskmeshInstall.NAMESPACE)
        .withLabel("app.kubernetes.io/name", "taskmesh-gateway").list().getItems();
    double state = pods.stream().filter(Story::ready).mapToDouble(pod -> MeshMetrics.sum(admin(pod),
        "taskmesh_circuit_breaker_state", "service=\"task-service")).max().orElse(0);
    return state == 1 ? "OPEN" : state == 2 ? "HALF_OPEN" : "CLOSED";
  }

  private static URI admin(Pod pod) {
    return URI.create("http://" + pod.getStatus().getPodIP() + ":15000");
  }

  private List<Pod> taskServicePods(String instance) {
    return api.pods().inNamespace(NS).withLabel("app.kubernetes.io/instance", instance).list().getItems().stream()
        .filter(pod -> pod.getMetadata().getDeletionTimestamp() == null).toList();
  }

  private List<String> endpoints(String service) {
    return api.discovery().v1().endpointSlices().inNamespace(NS).withLabel("kubernetes.io/service-name", service)
        .list().getItems().stream().flatMap(slice -> slice.getEndpoints().stream())
        .filter(endpoint -> Boolean.TRUE.equals(endpoint.getConditions().getReady()))
        .flatMap(endpoint -> endpoint.getAddresses().stream()).toList();
  }

  /** Pod uid → restarts of all its containers. */
  private Map<String, Integer> restarts(String instance) {
    return taskServicePods(instance).stream().collect(Collectors.toMap(pod -> pod.getMetadata().getUid(),
        pod -> java.util.stream.Stream.concat(pod.getStatus().getInitContainerStatuses().stream(),
                pod.getStatus().getContainerStatuses().stream())
            .mapToInt(status -> status.getRestartCount() == null ? 0 : status.getRestartCount()).sum()));
  }

  private void editTaskService(String name, java.util.function.Consumer<Map<String, Object>> change) {
    api.genericKubernetesResources(TaskmeshInstall.TASK_SERVICE_API_VERSION, "TaskService").inNamespace(NS)
        .withName(name).edit(taskService -> {
          change.accept(spec(taskService));
          return taskService;
        });
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> spec(GenericKubernetesResource resource) {
    return (Map<String, Object>) resource.getAdditionalProperties().get("spec");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> mesh(Map<String, Object> spec) {
    return (Map<String, Object>) spec.get("mesh");
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
        .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  private void printApplied(String command, List<HasMetadata> applied) {
    printApplied(out, command, applied);
  }

  /** {@code $ command}, then one line per object it applied. */
  public static void printApplied(PrintStream out, String command, List<HasMetadata> applied) {
    out.println("  $ " + command);
    applied.forEach(object -> out.println("    " + object.getKind().toLowerCase() + "/" + object.getMetadata().getName()
        + (object.getMetadata().getNamespace() == null ? "" : " (" + object.getMetadata().getNamespace() + ")")));
  }

  private static void require(boolean condition, String failure) {
    if (!condition) {
      throw new IllegalStateException(failure);
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 150 ? text : text.substring(0, 147) + "...";
  }

  private static boolean waitFor(BooleanSupplier condition, Duration bound) {
    return waitFor(condition, bound, Duration.ofMillis(200));
  }

  private static boolean waitFor(BooleanSupplier condition, Duration bound, Duration interval) {
    long giveUp = System.nanoTime() + bound.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > giveUp) {
        return false;
      }
      pause(interval.toMillis());
    }
    return true;
  }

  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
