package io.taskmesh.e2e.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.MeshSpec;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.api.TaskServiceSpec;
import io.taskmesh.operator.authz.AuthorizationTables;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.operator.inject.SidecarIdentity;
import io.taskmesh.operator.reconciler.ProxyConfigRenderer;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spec.mesh.mtls} of a TaskService on real traffic: in a mesh whose mode is permissive, the operator renders
 * a strict TaskService's sidecar config in strict mode, and that sidecar refuses a plaintext caller while a meshed
 * caller gets through over mTLS; a TaskService without the field keeps taking plaintext.
 */
class StrictModePerTaskServiceTest {
  private static final String NAMESPACE = "shop";
  private static final OperatorSettings PERMISSIVE_MESH = new OperatorSettings("proxy:test", "proxy-init:test",
      "task-service:test", "discovery.test:15010", List.of(), new SidecarIdentity(IdentityMode.PERMISSIVE,
          MeshIssuer.TRUST_DOMAIN, "issuer.test:15012"));

  @TempDir
  Path dir;
  private MeshOfIdentities mesh;

  @BeforeEach
  void startMesh() throws Exception {
    mesh = new MeshOfIdentities(dir, new AuthorizationTables());
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void aStrictTaskServiceRefusesPlaintextCallersAndTakesMeshedOnes() throws Exception {
    Sidecar strict = serverOf(taskService("tasks", MeshSpec.Mtls.strict));
    Sidecar permissive = serverOf(taskService("reports", null));
    TaskClient meshed = mesh.closeLater(TaskClient.connect("127.0.0.1:" + mesh.sidecar("""
        service: frontend
        namespace: %s
        inbound: {port: 0, appPort: 1}
        """.formatted(NAMESPACE), new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, "frontend"), IdentityMode.PERMISSIVE)
        .outboundPort(), "tasks", MeshOfIdentities.BOUND));

    assertThat(meshed.create("over mtls", "", "low", 1).getTitle()).isEqualTo("over mtls");
    TaskClient plaintextToStrict = mesh.closeLater(TaskClient.connect("127.0.0.1:" + strict.inboundPort(), "tasks",
        MeshOfIdentities.BOUND));
    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> plaintextToStrict.get(1));
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    TaskClient plaintextToPermissive = mesh.closeLater(TaskClient.connect("127.0.0.1:" + permissive.inboundPort(),
        "reports", MeshOfIdentities.BOUND));
    assertThat(plaintextToPermissive.create("plaintext", "", "low", 1).getTitle()).isEqualTo("plaintext");
  }

  private static TaskService taskService(String name, MeshSpec.Mtls mtls) {
    TaskServiceSpec spec = new TaskServiceSpec();
    spec.mesh = new MeshSpec();
    spec.mesh.mtls = mtls;
    return new TaskService(NAMESPACE, name, spec);
  }

  /**
   * The sidecar the operator would give {@code service}, beside a task-service of its own: its rendered config's
   * service and mTLS mode, with this test's ports, issuer and discovery; announced in discovery with its identity.
   */
  private Sidecar serverOf(TaskService service) throws Exception {
    MeshConfig rendered = ProxyConfigRenderer.render(service, PERMISSIVE_MESH);
    TaskServer app = mesh.closeLater(TaskServer.start(TaskServerOptions.defaults().withPort(0)
        .withBindAddress("127.0.0.1").withDatabaseUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1")));
    SpiffeId id = new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, rendered.service());
    Sidecar sidecar = mesh.sidecar("""
        service: %s
        namespace: %s
        inbound: {port: 0, appPort: %d}
        """.formatted(rendered.service(), rendered.namespace(), app.port()), id, rendered.identity().mode());
    mesh.announce(new ServiceKey(rendered.service(), NAMESPACE), sidecar, id);
    assertThat(sidecar.config().identity().mode().name().toLowerCase(Locale.ROOT))
        .isEqualTo(service.getSpec().mesh.mtls == null ? "permissive" : service.getSpec().mesh.mtls.name());
    return sidecar;
  }
}
