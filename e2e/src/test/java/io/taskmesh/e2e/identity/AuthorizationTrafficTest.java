package io.taskmesh.e2e.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.api.AuthorizationPolicy;
import io.taskmesh.operator.api.AuthorizationPolicySpec;
import io.taskmesh.operator.authz.AuthorizationTables;
import io.taskmesh.operator.authz.PolicyTranslator;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authorization by identity on real mTLS traffic: two callers certified by the operator's issuer as different
 * ServiceAccounts call one server sidecar, which enforces the AuthorizationPolicy the operator's discovery
 * server sends it (translated by the operator's own code), and takes a changed policy without a restart. Every
 * sidecar reaches discovery over TLS with its workload certificate, as it does with identity on.
 */
class AuthorizationTrafficTest {
  private static final String NAMESPACE = "shop";
  private static final SpiffeId TASKS = new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, "task-service");
  private static final SpiffeId FRONTEND = new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, "frontend");
  private static final SpiffeId BATCH = new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, "batch");
  private static final ServiceKey TASK_SERVICE = new ServiceKey("task-service", NAMESPACE);
  private static final Duration BOUND = MeshOfIdentities.BOUND;
  private static final Metadata.Key<String> ERROR = Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER);

  @TempDir
  Path dir;
  private final AuthorizationTables authorization = new AuthorizationTables();
  private MeshOfIdentities mesh;

  @BeforeEach
  void startMesh() throws Exception {
    mesh = new MeshOfIdentities(dir, authorization);
    TaskServer app = mesh.closeLater(TaskServer.start(TaskServerOptions.defaults().withPort(0)
        .withBindAddress("127.0.0.1").withDatabaseUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1")));
    mesh.announce(TASK_SERVICE, sidecar("task-service", app.port(), IdentityMode.STRICT, TASKS), TASKS);
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void callersAreAllowedOrRefusedByIdentityAndMethodAndAChangedPolicyAppliesWithoutRestart() throws Exception {
    TaskClient frontend = client(sidecar("frontend", 1, IdentityMode.PERMISSIVE, FRONTEND));
    TaskClient batch = client(sidecar("batch", 1, IdentityMode.PERMISSIVE, BATCH));
    assertThat(batch.create("no policy yet", "", "low", 1).getTitle()).isEqualTo("no policy yet");

    // frontend: every method; batch: only reads
    enforce(policy(rule(List.of(FRONTEND.uri()), List.of()), rule(List.of(BATCH.uri()), List.of("ListTasks"))));

    assertThat(frontend.create("by frontend", "", "low", 1).getTitle()).isEqualTo("by frontend");
    assertThat(batch.list(ListTasksRequest.newBuilder().setUserId(1).build())).hasSize(2);
    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class,
        () -> batch.create("by batch", "", "low", 1));
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(refused.getStatus().getDescription()).contains("caller " + BATCH.uri(),
        "/taskservice.TaskService/CreateTask", "AuthorizationPolicy shop/task-service-callers");
    assertThat(refused.getTrailers().get(ERROR)).contains("hop=server-sidecar", "reason=unauthorized");

    // the same sidecars, a new policy: batch may create now, frontend is denied by identity
    AuthorizationPolicySpec.Rule denyFrontend = rule(List.of(FRONTEND.uri()), List.of());
    denyFrontend.action = AuthorizationPolicySpec.Action.Deny;
    enforce(policy(rule(List.of(BATCH.uri()), List.of("ListTasks", "CreateTask")), denyFrontend));

    assertThat(batch.create("by batch, allowed now", "", "low", 1).getTitle()).isEqualTo("by batch, allowed now");
    StatusRuntimeException denied = catchThrowableOfType(StatusRuntimeException.class,
        () -> frontend.get(1));
    assertThat(denied.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(denied.getStatus().getDescription()).contains("caller " + FRONTEND.uri(), "deny rule");
  }

  /** Hands the policy to discovery and waits until the server sidecar says it enforces it. */
  private void enforce(AuthorizationPolicy policy) {
    authorization.update(TASK_SERVICE, PolicyTranslator.table(List.of(policy)));
    String hash = authorization.current(TASK_SERVICE).getHash();
    await().atMost(BOUND).until(() -> mesh.discovery().service().subscribers().stream()
        .anyMatch(node -> node.getService().equals("task-service") && node.getAuthorizationHash().equals(hash)));
  }

  private static AuthorizationPolicy policy(AuthorizationPolicySpec.Rule... rules) {
    AuthorizationPolicySpec spec = new AuthorizationPolicySpec();
    spec.targetRef = new AuthorizationPolicySpec.TargetRef();
    spec.targetRef.name = "task-service";
    spec.rules = List.of(rules);
    return new AuthorizationPolicy(NAMESPACE, "task-service-callers", spec);
  }

  private static AuthorizationPolicySpec.Rule rule(List<String> identities, List<String> methods) {
    AuthorizationPolicySpec.Rule rule = new AuthorizationPolicySpec.Rule();
    rule.from = identities.stream().map(identity -> {
      AuthorizationPolicySpec.Caller caller = new AuthorizationPolicySpec.Caller();
      caller.identity = identity;
      return caller;
    }).toList();
    AuthorizationPolicySpec.Method to = new AuthorizationPolicySpec.Method();
    to.service = "taskservice.TaskService";
    to.methods = methods.isEmpty() ? null : methods;
    rule.to = List.of(to);
    return rule;
  }

  private Sidecar sidecar(String service, int appPort, IdentityMode mode, SpiffeId id) throws Exception {
    return mesh.sidecar("""
        service: %s
        namespace: %s
        inbound: {port: 0, appPort: %d}
        """.formatted(service, NAMESPACE, appPort), id, mode);
  }

  private TaskClient client(Sidecar caller) {
    return mesh.closeLater(TaskClient.connect("127.0.0.1:" + caller.outboundPort(), "task-service", BOUND));
  }
}
