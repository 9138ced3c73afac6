package io.taskmesh.e2e.cluster.story;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.taskmesh.operator.inject.SidecarInjection;
import io.taskmesh.e2e.cluster.CallLoop;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * The story of taskmesh told on the local cluster, with what a user types printed before each step: the chart
 * installed, the example TaskService applied (two replicas on the cluster's PostgreSQL) and watched until Ready,
 * an injected client pod calling it without pause, the gateway, a pod killed, a {@code spec.mesh} change, an
 * AuthorizationPolicy refusing the gateway's identity, an outage, the client's trace, then a blue-green switch
 * of the task service by GRPCRoute weights and a rolling update of the new version, with the calls counted
 * throughout and each step's time printed.
 */
public final class Story {
  /**
   * The demo's JVM flags for the operator, the gateway and the task services: the C1 compiler only. Every pod
   * here starts one or two JVMs on a machine of two cores, and C2's compilations at start-up compete with the
   * other pods' starts; the chart's and the operator's defaults stay as they are for real clusters.
   */
  public static final String DEMO_JVM_FLAGS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";
  /** Where pods send spans: the cluster's Zipkin, by its Service's name. */
  private static final String ZIPKIN_IN_CLUSTER = "http://zipkin.default.svc.cluster.local:9411";

  /**
   * Chart values beyond the defaults: the story calls the mesh through its gateway, from one address (this host),
   * faster than the default 100 requests a minute per client; the operator and the gateway run
   * {@link #DEMO_JVM_FLAGS}; with {@code tracing}, the gateway sends its spans to the cluster's Zipkin.
   */
  public static Map<String, Object> chartValues(boolean tracing) {
    Map<String, Object> values = new java.util.LinkedHashMap<>(Map.of("gateway.enabled", "true",
        "gateway.clientRateLimit.requestsPerMinute", "60000",
        "operator.javaOptions", "-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError " + DEMO_JVM_FLAGS,
        "gateway.javaOptions", "-XX:MaxRAMPercentage=40 -XX:MaxDirectMemorySize=64m -XX:+ExitOnOutOfMemoryError "
            + DEMO_JVM_FLAGS + " " + SidecarInjection.ClassDataArchive.OPTIONS));
    if (tracing) {
      values.put("gateway.tracing.exporter", "zipkin");
      values.put("gateway.tracing.endpoint", ZIPKIN_IN_CLUSTER);
    }
    return values;
  }

  /** {@link #chartValues} as {@code helm install} options. */
  public static String chartOptions(boolean tracing) {
    return "--set gateway.enabled=true --set gateway.clientRateLimit.requestsPerMinute=60000"
        + " --set operator.javaOptions='... " + DEMO_JVM_FLAGS + "' --set gateway.javaOptions='... " + DEMO_JVM_FLAGS + "'"
        + (tracing ? " --set gateway.tracing.exporter=zipkin --set gateway.tracing.endpoint=" + ZIPKIN_IN_CLUSTER : "");
  }

  private static final String NS = "default";
  private static final String CLIENT = "task-client";
  private static final String GATEWAY = "taskmesh-gateway";
  private static final String CLIENT_IDENTITY = "spiffe://cluster.local/ns/default/sa/" + CLIENT;
  private static final int USER = 1;
  /** Calls per GRPCRoute weight in the blue-green step: enough for a 50/50 split to show. */
  private static final int CALLS_PER_WEIGHT = 40;
  /** Traces of one caller searched for a complete one. */
  private static final int TRACES_SEARCHED = 100;

  private final LocalCluster cluster;
  private final KubernetesClient api;
  private final Path repository;
  private final CompletableFuture<ChartInstall.Rendered> chart;
  private final PrintStream out;
  private final TaskServiceTable table;
  private final List<String> titles = new ArrayList<>();
  private final List<Step> steps = new ArrayList<>();
  private GatewayCalls gateway;
  private String taskId;
  private final long storyStart = System.nanoTime();
  private volatile boolean stopped;
  private volatile Thread teller;

  private interface Step {
    void run() throws IOException;
  }

  /** @param chart the chart rendered with {@link #chartValues}, perhaps still rendering (it began before the cluster) */
  public Story(LocalCluster cluster, Path repository, CompletableFuture<ChartInstall.Rendered> chart, PrintStream out) {
    this.cluster = cluster;
    this.chart = chart;
    this.api = cluster.client();
    this.repository = repository;
    this.out = out;
    this.table = new TaskServiceTable(api, out);
    step("Install the chart, apply the example TaskService (two replicas on the cluster's PostgreSQL), start a client"
        + " pod the webhook injects (a plain client loop dialling task-service:50051), watch them become Ready",
        this::install);
    step("The client pod calls the service, through the sidecar the webhook gave it", this::callFromInjectedPod);
    step("The gateway: the same service as REST/JSON from outside the mesh", this::throughTheGateway);
    step("Kill a pod: the deployment controller replaces it, the EndpointSlice follows, no call fails",
        this::killPod);
    step("Apply the blue-green step's two versions now, without their route: their pods start while the next"
        + " steps run (traffic to task-service is unchanged)", this::applyVersions);
    step("Change spec.mesh: the sidecars reload, no pod restarts, status shows the new config applied",
        this::changeMesh);
    step("Zero trust: an AuthorizationPolicy lets only the client pod's identity in; the gateway is refused",
        this::refuseByIdentity);
    step("An outage: no endpoints, calls fail at once and say why; they succeed again once a pod is back",
        this::outage);
    step("A call's trace from the client pod and one from the gateway, each hop's span, fetched back from Zipkin",
        this::trace);
    step("Blue-green: two versions behind the task-service Service, GRPCRoute weights 100/0 -> 50/50 -> 0/100",
        this::blueGreen);
    step("A rolling update of the new version under load", this::rollout);
  }

  private void step(String title, Step step) {
    titles.add(title);
    steps.add(step);
  }

  /**
   * Runs every step; a step that fails is reported and the story goes on. Returns the steps that failed. After
   * {@link #stop()} it ends without another word.
   */
  public int run() {
    teller = Thread.currentThread();
    long start = System.nanoTime();
    int failed = 0;
    for (int i = 0; i < steps.size() && !stopped; i++) {
      out.printf("%n[%d/%d] %s%n", i + 1, steps.size(), titles.get(i));
      long stepStart = System.nanoTime();
      try {
        steps.get(i).run();
      } catch (IOException | RuntimeException e) {
        if (stopped) {
          break;
        }
        failed++;
        out.println("  this step failed: " + e);
      }
      out.printf("      (%.1f s)%n", (System.nanoTime() - stepStart) / 1e9);
    }
    if (stopped) {
      return failed;
    }
    out.printf("%nStory told in %.1f s%s.%n", (System.nanoTime() - start) / 1e9,
        failed == 0 ? "" : ", " + failed + " step(s) failed");
    return failed;
  }

  /** Whether {@link #stop()} ended it. */
  public boolean stopped() {
    return stopped;
  }

  /** Stops the story where it is (an interrupted {@code ./taskmesh}): its waits end, it prints nothing more. */
  public void stop() {
    stopped = true;
    Thread running = teller;
    if (running != null) {
      running.interrupt();
    }
  }

  private void install() throws IOException {
    printApplied("helm install taskmesh helm/taskmesh -n taskmesh-system --create-namespace "
        + chartOptions(cluster.externalServices().tracing()), ChartInstall.install(api, chart.join()));
    out.printf("    (applied at %.1f s)%n", sinceStart());
    ExternalServices.Postgres postgres = cluster.externalServices().postgres();
    api.resource(postgres.urlSecret(NS, "tasks-db")).create();
    out.println("  $ kubectl create secret generic tasks-db --from-literal=url='"
        + postgres.clusterJdbcUrl().replace(postgres.password(), "***") + "'");
    require(waitFor(() -> available(TaskmeshInstall.NAMESPACE, "taskmesh-operator"), Duration.ofMinutes(6)),
        "the operator did not become ready");
    out.printf("  operator ready at %.1f s%n", sinceStart());
    List<HasMetadata> example = new ArrayList<>();
    for (HasMetadata object : ChartInstall.parse(Files.readString(repository.resolve("examples/taskservice.yaml")))) {
      if (object instanceof GenericKubernetesResource taskService && taskService.getKind().equals("TaskService")) {
        spec(taskService).put("replicas", 2);
        spec(taskService).put("database", Map.of("postgresUrlSecret", Map.of("name", "tasks-db", "key", "url")));
        withDemoJvm(taskService);
      }
      example.add(object);
    }
    printApplied("kubectl apply -f examples/taskservice.yaml   (with replicas: 2, database.postgresUrlSecret: tasks-db;"
        + " env JAVA_TOOL_OPTIONS=" + DEMO_JVM_FLAGS + ")", ChartInstall.create(api, example, NS));
    require(table.watchUntil(List.of("task-service"), TaskServiceTable::serving, Duration.ofMinutes(4)),
        "no pod of the TaskService became ready");
    out.printf("  a first pod ready at %.1f s: the client pod starts while the second one does%n", sinceStart());
    startClientPod();
    require(table.watchUntil(List.of("task-service"), TaskServiceTable::settled, Duration.ofMinutes(4)),
        "the TaskService did not become Ready");
    out.printf("  task-service Ready at %.1f s; gateway %s%n", sinceStart(),
        available(TaskmeshInstall.NAMESPACE, "taskmesh-gateway") ? "ready" : "not ready yet");
  }

  /** The demo's JVM flags for a TaskService's app, as a user sets them: {@code spec.env}. */
  private static void withDemoJvm(GenericKubernetesResource taskService) {
    spec(taskService).put("env", List.of(Map.of("name", "JAVA_TOOL_OPTIONS", "value", DEMO_JVM_FLAGS)));
  }

  private boolean available(String namespace, String deployment) {
    var found = api.apps().deployments().inNamespace(namespace).withName(deployment).get();
    return found != null && found.getStatus() != null && found.getStatus().getReadyReplicas() != null
        && found.getStatus().getReadyReplicas() >= 1;
  }

  private double sinceStart() {
    return (System.nanoTime() - storyStart) / 1e9;
  }

  /** The client pod, as a user starts a workload of their own that opts in to injection. */
  private void startClientPod() {
    out.println("  $ kubectl create serviceaccount " + CLIENT);
    api.serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata().withName(CLIENT)
        .endMetadata().build()).create();
    String proxyConfig = """
        service: task-client
        namespace: default
        outbound:
          discovery: {address: "taskmesh-operator.taskmesh-system.svc:15010"}
        identity: {mode: permissive, trustDomain: cluster.local, issuer: "taskmesh-operator.taskmesh-system.svc:15012"}
        tracing: {exporter: zipkin, endpoint: "%s", samplingRatio: 1.0}
        """.formatted(ZIPKIN_IN_CLUSTER);
    out.println("  $ kubectl create configmap " + CLIENT + "-proxy --from-file=proxy.yaml   (the client's sidecar:"
        + " what a user writes for a workload of their own)");
    proxyConfig.lines().forEach(line -> out.println("      " + line));
    api.configMaps().inNamespace(NS).resource(new ConfigMapBuilder().withNewMetadata().withName(CLIENT + "-proxy")
        .endMetadata().withData(Map.of("proxy.yaml", proxyConfig)).build()).create();
    String script = "exec java " + DEMO_JVM_FLAGS + " -cp \"$(cat /app/jib-classpath-file)\""
        + " io.taskmesh.e2e.cluster.CallLoop --target task-service:50051 --pause PT0.2S --max-duration PT15M";
    out.println("  $ kubectl run " + CLIENT + " --restart=Never --labels=taskmesh.io/inject=true --image=taskmesh/task-service"
        + " --overrides='{\"spec\":{\"serviceAccountName\":\"" + CLIENT + "\"}}' --command -- sh -c '"
        + script.replace("'", "\\'") + "'");
    out.println("    (CallLoop, of the e2e module: creates a task and reads it back, again and again, and prints its totals)");
    Pod created = createInjected(new PodBuilder().withNewMetadata().withName(CLIENT)
        .addToLabels("taskmesh.io/inject", "true").addToLabels("app.kubernetes.io/name", CLIENT).endMetadata()
        .withNewSpec().withRestartPolicy("Never").withServiceAccountName(CLIENT).addNewContainer().withName("app")
        .withImage("taskmesh/task-service:0.1.0").withCommand("sh", "-c", script).endContainer().endSpec().build());
    out.println("  the webhook added: " + created.getSpec().getInitContainers().stream()
        .map(c -> c.getName() + ("Always".equals(c.getRestartPolicy()) ? " (native sidecar)" : " (init)"))
        .collect(Collectors.joining(", ")));
  }

  private void callFromInjectedPod() {
    boolean calling = waitFor(() -> clientTotals().ok() > 0, Duration.ofMinutes(2));
    CallLoop.Totals totals = clientTotals();
    out.printf("  $ kubectl logs %s -c app | tail -1%n    calls ok=%d failed=%d   (first call at %.1f s)%n", CLIENT,
        totals.ok(), totals.failed(), sinceStart());
    require(calling, "the client pod made no successful call");
  }

  /**
   * Creates an opted-in pod as admitted with its sidecar. Under load the webhook can miss its timeout and its
   * failurePolicy (Ignore for labelled pods) admits the pod without one, as a cluster would: such a pod is
   * deleted and created again, as its controller would.
   */
  private Pod createInjected(Pod pod) {
    for (int attempt = 1; ; attempt++) {
      Pod created = api.pods().inNamespace(NS).resource(pod).create();
      if (created.getMetadata().getAnnotations() != null
          && created.getMetadata().getAnnotations().containsKey("taskmesh.io/injected")) {
        return created;
      }
      out.println("  the webhook did not answer in time, the pod was admitted without a sidecar: deleted, created again");
      api.pods().inNamespace(NS).withName(pod.getMetadata().getName()).withGracePeriod(0).delete();
      require(attempt < 5 && waitFor(() -> api.pods().inNamespace(NS).withName(pod.getMetadata().getName()).get() == null,
          Duration.ofMinutes(1)), "the webhook never injected " + pod.getMetadata().getName());
    }
  }

  /** The client pod's totals, from its log. */
  private CallLoop.Totals clientTotals() {
    return cluster.kubelet().logFile(NS, CLIENT, "app").map(log -> {
      try {
        return CallLoop.Totals.last(Files.readString(log));
      } catch (IOException e) {
        return new CallLoop.Totals(0, 0);
      }
    }).orElse(new CallLoop.Totals(0, 0));
  }

  /** What the client pod did since {@code before}. */
  private String clientSince(CallLoop.Totals before) {
    CallLoop.Totals now = clientTotals();
    return (now.ok() - before.ok()) + " succeeded, " + (now.failed() - before.failed()) + " failed";
  }

  private long clientFailedSince(CallLoop.Totals before) {
    return clientTotals().failed() - before.failed();
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
    // the gateway learns task-service's methods once, by reflection through the mesh: a read shows when it can
    waitFor(() -> {
      try {
        return gateway.get("/api/tasks?user_id=" + USER).statusCode() == 200;
      } catch (IOException e) {
        return false;
      }
    }, Duration.ofMinutes(1));
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
    List<Pod> before = taskServicePods("task-service");
    Pod victim = before.get(0);
    CallLoop.Totals client = clientTotals();
    gateway.tally();
    out.println("  $ kubectl delete pod " + victim.getMetadata().getName());
    long start = System.nanoTime();
    api.pods().inNamespace(NS).withName(victim.getMetadata().getName()).delete();
    boolean replaced = waitFor(() -> {
      gateway.getCounted(taskId);
      List<Pod> pods = taskServicePods("task-service");
      return pods.size() == before.size() && pods.stream().allMatch(Story::ready)
          && pods.stream().noneMatch(pod -> pod.getMetadata().getUid().equals(victim.getMetadata().getUid()))
          && new java.util.HashSet<>(endpoints("task-service")).equals(pods.stream()
              .map(pod -> pod.getStatus().getPodIP()).collect(Collectors.toSet()));
    }, Duration.ofMinutes(2));
    Pod replacement = taskServicePods("task-service").stream()
        .filter(pod -> before.stream().noneMatch(old -> old.getMetadata().getUid().equals(pod.getMetadata().getUid())))
        .findFirst().orElseThrow(() -> new IllegalStateException("no replacement pod"));
    out.printf("  replaced by %s (%s), ready and in the EndpointSlice beside the other replica after %.1f s%n",
        replacement.getMetadata().getName(), replacement.getStatus().getPodIP(), (System.nanoTime() - start) / 1e9);
    GatewayCalls.Tally tally = gateway.tally();
    long clientFailed = clientFailedSince(client);
    out.println("  calls meanwhile: from the client pod " + clientSince(client) + "; through the gateway " + tally);
    require(replaced, "no ready replacement");
    require(clientFailed == 0 && tally.failed() == 0, "calls failed while a pod was replaced");
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

  private void refuseByIdentity() {
    String policy = """
        apiVersion: taskmesh.io/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: only-task-client}
        spec:
          targetRef: {kind: TaskService, name: task-service}
          rules:
            - from:
                - identity: %s
        """.formatted(CLIENT_IDENTITY);
    out.println("  $ kubectl apply -f - <<EOF");
    policy.lines().forEach(line -> out.println("    " + line));
    out.println("    EOF");
    CallLoop.Totals client = clientTotals();
    long start = System.nanoTime();
    ChartInstall.apply(api, policy, NS);
    List<HttpResponse<String>> refused = new ArrayList<>();
    boolean enforced = waitFor(() -> {
      try {
        HttpResponse<String> response = gateway.get("/api/tasks/" + taskId);
        if (response.statusCode() == 200) {
          return false;
        }
        refused.add(response);
        return true;
      } catch (IOException e) {
        return false;
      }
    }, Duration.ofMinutes(1));
    require(enforced, "the policy was not enforced within a minute");
    HttpResponse<String> answer = refused.get(0);
    out.printf("  the gateway's calls are refused %.1f s after the apply:%n", (System.nanoTime() - start) / 1e9);
    out.println("  $ curl -si " + gateway.uri() + "/api/tasks/" + taskId + "   (the gateway calls as"
        + " spiffe://cluster.local/ns/taskmesh-system/sa/taskmesh-gateway)");
    out.println("    " + answer.statusCode() + " " + answer.body().strip());
    answer.headers().firstValue("taskmesh-error").ifPresent(error -> out.println("    taskmesh-error: " + error));
    waitFor(() -> clientTotals().ok() > client.ok() + 4, Duration.ofSeconds(20));
    long clientFailed = clientFailedSince(client);
    out.println("  the client pod (" + CLIENT_IDENTITY + ") meanwhile: " + clientSince(client));
    out.println("  $ kubectl delete authorizationpolicy only-task-client");
    api.genericKubernetesResources(TaskmeshInstall.TASK_SERVICE_API_VERSION, "AuthorizationPolicy").inNamespace(NS)
        .withName("only-task-client").delete();
    long lifted = System.nanoTime();
    boolean open = waitFor(() -> gateway.getCounted(taskId), Duration.ofMinutes(1));
    gateway.tally();
    out.printf("  the gateway's call succeeds again after %.1f s%n", (System.nanoTime() - lifted) / 1e9);
    require(answer.statusCode() == 403 && answer.body().contains("PERMISSION_DENIED"),
        "the gateway's refusal was not PERMISSION_DENIED");
    require(clientFailed == 0, "the allowed client's calls failed");
    require(open, "the gateway was still refused after the policy went");
  }

  private void outage() {
    out.println("  $ kubectl scale ts task-service --replicas=0");
    CallLoop.Totals client = clientTotals();
    gateway.tally();
    editTaskService("task-service", spec -> spec.put("replicas", 0));
    waitFor(() -> endpoints("task-service").isEmpty(), Duration.ofMinutes(1));
    HttpResponse<String> refused = null;
    try {
      refused = gateway.get("/api/tasks/" + taskId);
    } catch (IOException e) {
      out.println("  the gateway did not answer: " + e);
    }
    if (refused != null) {
      out.println("  $ curl -s " + gateway.uri() + "/api/tasks/" + taskId);
      out.println("    " + refused.statusCode() + " " + abbreviate(refused.body().strip()));
    }
    for (int i = 0; i < 20; i++) {
      gateway.getCounted(taskId);
    }
    out.println("  20 more calls through the gateway: " + gateway.tally() + "; its circuit to task-service: "
        + circuit() + " (the proxy's own 'no endpoints' answer sent nothing, so it does not count against the circuit)");
    out.println("  $ kubectl scale ts task-service --replicas=1");
    long start = System.nanoTime();
    editTaskService("task-service", spec -> spec.put("replicas", 1));
    waitFor(() -> !endpoints("task-service").isEmpty(), Duration.ofMinutes(2));
    out.printf("  a pod is ready after %.1f s%n", (System.nanoTime() - start) / 1e9);
    boolean back = waitFor(() -> gateway.getCounted(taskId), Duration.ofMinutes(1));
    out.printf("  the gateway's next call succeeded after %.1f s (%s meanwhile); the client pod during the outage: %s%n",
        (System.nanoTime() - start) / 1e9, gateway.tally(), clientSince(client));
    require(back, "no call succeeded after the outage");
  }

  private void trace() {
    URI zipkinUri = cluster.zipkin().orElse(null);
    if (zipkinUri == null) {
      out.println("  tracing is off (Zipkin not started)");
      return;
    }
    ZipkinQuery zipkin = new ZipkinQuery(zipkinUri);
    showTrace(zipkin, zipkinUri, CLIENT, "the client pod's sidecar");
    showTrace(zipkin, zipkinUri, GATEWAY, "the gateway (chart value gateway.tracing)");
  }

  /** One trace holding {@code caller}'s CLIENT span and the task service sidecar's SERVER span, as Zipkin has it. */
  private void showTrace(ZipkinQuery zipkin, URI zipkinUri, String caller, String who) {
    List<Span> trace = new ArrayList<>();
    waitFor(() -> {
      // the newest traces may still lack the far sidecar's span (each sidecar exports in batches): look further back
      zipkin.traces(caller, TRACES_SEARCHED).stream().filter(found -> crossesBothSidecars(found, caller)).findFirst()
          .ifPresent(found -> {
            trace.clear();
            trace.addAll(found);
          });
      return !trace.isEmpty();
    }, Duration.ofSeconds(30));
    out.println("  $ curl -s '" + zipkinUri + "/api/v2/traces?serviceName=" + caller + "&limit=" + TRACES_SEARCHED
        + "'   (" + who + ")");
    require(!trace.isEmpty(), "no trace of " + caller + " with a span of the task service's sidecar within 30 s");
    out.println("  $ curl -s " + zipkinUri + "/api/v2/trace/" + trace.get(0).traceId());
    TraceTree.render(trace).lines().forEach(line -> out.println("    " + line));
  }

  /** A trace holding {@code caller}'s CLIENT span and the server sidecar's SERVER span. */
  private static boolean crossesBothSidecars(List<Span> trace, String caller) {
    return trace.stream().anyMatch(span -> span.serviceName().equals(caller) && "CLIENT".equals(span.kind()))
        && trace.stream().anyMatch(span -> span.serviceName().equals("task-service") && "SERVER".equals(span.kind()));
  }

  /**
   * The two TaskServices of {@code examples/grpcroute-canary.yaml}, one replica each: they have Services of their
   * own (task-service-v1, -v2), so nothing calls them until the route puts them behind task-service.
   */
  private void applyVersions() throws IOException {
    List<HasMetadata> versions = new ArrayList<>();
    for (HasMetadata object : canaryExample()) {
      if (object instanceof GenericKubernetesResource resource && resource.getKind().equals("TaskService")) {
        spec(resource).put("replicas", 1);
        withDemoJvm(resource);
        versions.add(resource);
      }
    }
    printApplied("kubectl apply -f examples/grpcroute-canary.yaml   (its TaskServices only, one replica per version, env"
        + " JAVA_TOOL_OPTIONS=" + DEMO_JVM_FLAGS + "; the GRPCRoute comes in the blue-green step)",
        ChartInstall.create(api, versions, NS));
  }

  private List<HasMetadata> canaryExample() throws IOException {
    return ChartInstall.parse(Files.readString(repository.resolve("examples/grpcroute-canary.yaml")));
  }

  private void blueGreen() throws IOException {
    try (InputStream crd = Story.class.getResourceAsStream("grpcroutes-crd.yaml")) {
      printApplied("kubectl apply -f <the Gateway API's GRPCRoute CRD>",
          ChartInstall.apply(api, new String(crd.readAllBytes(), StandardCharsets.UTF_8), null));
    }
    require(table.watchUntil(List.of("task-service-v1", "task-service-v2"), TaskServiceTable::settled,
        Duration.ofMinutes(4)), "the two versions did not become Ready");
    // the example's TaskService already runs the Service callers dial (task-service), which the example's own
    // parent Service would be: the route puts the two versions behind it
    List<HasMetadata> route = new ArrayList<>();
    for (HasMetadata object : canaryExample()) {
      if (object.getKind().equals("GRPCRoute")) {
        GenericKubernetesResource grpcRoute = Serialization.unmarshal(Serialization.asJson(object),
            GenericKubernetesResource.class);
        setWeights(grpcRoute, 100, 0);
        route.add(grpcRoute);
      }
    }
    printApplied("kubectl apply -f examples/grpcroute-canary.yaml   (its GRPCRoute, weights 100/0; its Service"
        + " task-service is the example TaskService's)", ChartInstall.create(api, route, NS));
    taskId = gateway.createTask("Blue or green", USER, Map.of()).orElseThrow(() ->
        new IllegalStateException("the gateway did not create a task on the versions"));
    out.println("  calls through the gateway, counted by each version's sidecar (taskmesh_requests_total inbound):");
    for (int[] weights : new int[][] {{100, 0}, {50, 50}, {0, 100}}) {
      shiftWeights(weights[0], weights[1]);
      Map<String, Double> before = servedByVersion();
      for (int i = 0; i < CALLS_PER_WEIGHT; i++) {
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
    CallLoop.Totals client = clientTotals();
    gateway.tally();
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
    long clientFailed = clientFailedSince(client);
    out.println("  calls during the rollout: through the gateway " + tally + "; from the client pod (by the same"
        + " route) " + clientSince(client));
    require(tally.failed() == 0 && clientFailed == 0, "calls failed during the rollout");
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
    // and when one version has it all, the gateway has the new weights once a call lands only there
    String only = v2 == 0 ? "v1" : v1 == 0 ? "v2" : null;
    if (only != null) {
      waitFor(() -> {
        Map<String, Double> before = servedByVersion();
        gateway.getCounted(taskId);
        Map<String, Double> after = servedByVersion();
        return before.keySet().stream().allMatch(version ->
            version.equals(only) == after.get(version) > before.get(version));
      }, Duration.ofSeconds(30));
      gateway.tally();
    }
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
      if (System.nanoTime() > giveUp || Thread.currentThread().isInterrupted()) {
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
