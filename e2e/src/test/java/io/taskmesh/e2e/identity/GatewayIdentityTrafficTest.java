package io.taskmesh.e2e.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

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
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway as the chart runs it: the proxy in gateway mode in the operator's namespace, certified by the
 * operator's issuer as its own ServiceAccount, calling a meshed service over mTLS. An AuthorizationPolicy that
 * names only the gateway's ServiceAccount lets its calls through and refuses every other caller of the server
 * sidecar: a plaintext one (no identity) and a meshed one with another identity.
 */
class GatewayIdentityTrafficTest {
  private static final String NAMESPACE = "shop";
  private static final String GATEWAY_NAMESPACE = "taskmesh-system";
  private static final SpiffeId TASKS = new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, "task-service");
  private static final SpiffeId GATEWAY = new SpiffeId(MeshIssuer.TRUST_DOMAIN, GATEWAY_NAMESPACE, "taskmesh-gateway");
  private static final SpiffeId FRONTEND = new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, "frontend");
  private static final ServiceKey TASK_SERVICE = new ServiceKey("task-service", NAMESPACE);
  private static final Duration BOUND = MeshOfIdentities.BOUND;

  @TempDir
  Path dir;
  // as the operator runs it: its own namespace (the gateway's) may discover every service
  private final AuthorizationTables authorization = new AuthorizationTables(Set.of(GATEWAY_NAMESPACE));
  private MeshOfIdentities mesh;
  private Sidecar server;

  @BeforeEach
  void startMesh() throws Exception {
    mesh = new MeshOfIdentities(dir, authorization);
    TaskServer app = mesh.closeLater(TaskServer.start(TaskServerOptions.defaults().withPort(0)
        .withBindAddress("127.0.0.1").withDatabaseUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1")));
    server = mesh.sidecar("""
        service: task-service
        namespace: %s
        inbound: {port: 0, appPort: %d}
        """.formatted(NAMESPACE, app.port()), TASKS, IdentityMode.PERMISSIVE);
    mesh.announce(TASK_SERVICE, server, TASKS);
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void aPolicyNamingTheGatewaysServiceAccountLetsItsCallsThroughAndRefusesOtherCallers() throws Exception {
    Sidecar gateway = mesh.sidecar("""
        service: taskmesh-gateway
        namespace: %s
        inbound: {port: 0, appPort: 1}
        gateway:
          port: 0
          routes:
            - {pathPrefix: /taskservice.TaskService/, service: task-service.%s}
        """.formatted(GATEWAY_NAMESPACE, NAMESPACE), GATEWAY, IdentityMode.PERMISSIVE);
    TaskClient throughGateway = mesh.closeLater(TaskClient.connect("127.0.0.1:" + gateway.gatewayPort(), "gateway", BOUND));
    TaskClient plaintext = mesh.closeLater(TaskClient.connect("127.0.0.1:" + server.inboundPort(), "task-service", BOUND));
    TaskClient frontend = mesh.closeLater(TaskClient.connect("127.0.0.1:" + mesh.sidecar("""
        service: frontend
        namespace: %s
        inbound: {port: 0, appPort: 1}
        """.formatted(NAMESPACE), FRONTEND, IdentityMode.PERMISSIVE).outboundPort(), "task-service", BOUND));
    assertThat(frontend.create("before the policy", "", "low", 1).getTitle()).isEqualTo("before the policy");

    enforce(onlyTheGateway());

    assertThat(throughGateway.create("through the gateway", "", "low", 1).getTitle()).isEqualTo("through the gateway");
    StatusRuntimeException direct = catchThrowableOfType(StatusRuntimeException.class, () -> plaintext.get(1));
    assertThat(direct.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(direct.getStatus().getDescription()).contains("AuthorizationPolicy shop/gateway-only");
    StatusRuntimeException other = catchThrowableOfType(StatusRuntimeException.class, () -> frontend.get(1));
    assertThat(other.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(other.getStatus().getDescription()).contains("caller " + FRONTEND.uri());
    assertThat(throughGateway.get(2).getTitle()).isEqualTo("through the gateway");
  }

  /** What a user writes to let only the chart's gateway in: its namespace and ServiceAccount. */
  private static AuthorizationPolicy onlyTheGateway() {
    AuthorizationPolicySpec.Caller caller = new AuthorizationPolicySpec.Caller();
    caller.namespace = GATEWAY_NAMESPACE;
    caller.serviceAccount = "taskmesh-gateway";
    AuthorizationPolicySpec.Method to = new AuthorizationPolicySpec.Method();
    to.service = "taskservice.TaskService";
    AuthorizationPolicySpec.Rule rule = new AuthorizationPolicySpec.Rule();
    rule.from = List.of(caller);
    rule.to = List.of(to);
    AuthorizationPolicySpec spec = new AuthorizationPolicySpec();
    spec.targetRef = new AuthorizationPolicySpec.TargetRef();
    spec.targetRef.name = "task-service";
    spec.rules = List.of(rule);
    return new AuthorizationPolicy(NAMESPACE, "gateway-only", spec);
  }

  /** Hands the policy to discovery and waits until the server sidecar says it enforces it. */
  private void enforce(AuthorizationPolicy policy) {
    authorization.update(TASK_SERVICE, PolicyTranslator.table(List.of(policy)));
    String hash = authorization.current(TASK_SERVICE).getHash();
    await().atMost(BOUND).until(() -> mesh.discovery().service().subscribers().stream()
        .anyMatch(node -> node.getService().equals("task-service") && node.getAuthorizationHash().equals(hash)));
  }
}
