package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.discovery.v1.AuthorizationRule;
import io.taskmesh.discovery.v1.InboundAuthorization;
import io.taskmesh.discovery.v1.MethodMatch;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.FakeControlPlane;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server sidecar enforces the inbound authorization discovery sends it, on real calls to its inbound
 * listener, and takes a new table without a restart. (Calls here are plaintext, so the caller is
 * unauthenticated; rules by identity are proven over mTLS in the identity tests and in
 * {@code InboundAuthorizationTest}.)
 */
class AuthorizationTest {
  private static final Metadata.Key<String> ERROR =
      Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER);
  private final MeshFixture mesh = new MeshFixture();
  private FakeControlPlane controlPlane;
  private Sidecar serverSide;
  private TaskClient client;

  @BeforeEach
  void startServerSidecar() {
    TaskServer app = mesh.backend();
    controlPlane = mesh.closeLater(new FakeControlPlane(0));
    serverSide = mesh.sidecar(MeshConfigParser.parse("""
        service: task-service
        namespace: shop
        inbound: {port: 0, appPort: %d}
        outbound:
          port: 0
          discovery: {address: "127.0.0.1:%d"}
        admin: {port: 0}
        """.formatted(app.port(), controlPlane.port())));
    client = mesh.closeLater(TaskClient.connect("127.0.0.1:" + serverSide.inboundPort(), "task-service",
        Duration.ofSeconds(10)));
    await().atMost(Duration.ofSeconds(30)).until(() -> controlPlane.subscriberCount() == 1);
  }

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void aPolicyRefusesWhatItDoesNotAllowNamingCallerAndPolicyAndANewOneAppliesWithoutRestart() {
    assertThat(client.create("before any policy", "", "low", 1).getTitle()).isEqualTo("before any policy");

    controlPlane.authorize("task-service", readOnly("h1"));
    await().atMost(Duration.ofSeconds(30)).until(() -> announcedHash().equals("h1"));

    assertThat(client.list(ListTasksRequest.newBuilder().setUserId(1).build())).hasSize(1);
    assertThatThrownBy(() -> client.create("refused", "", "low", 1))
        .isInstanceOfSatisfying(StatusRuntimeException.class, refused -> {
          assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(refused.getStatus().getDescription())
              .contains("caller unauthenticated", "/taskservice.TaskService/CreateTask", "shop/readers");
          assertThat(refused.getTrailers().get(ERROR)).contains("hop=server-sidecar", "reason=unauthorized");
        });
    AdminClient admin = new AdminClient(serverSide.adminPort());
    assertThat(admin.metricSum("taskmesh_authorization_denied_total", "policy=\"shop/readers\"")).isEqualTo(1.0);
    assertThat(admin.metricSum("taskmesh_requests_total", "direction=\"inbound\"", "code=\"PERMISSION_DENIED\""))
        .isEqualTo(1.0);

    controlPlane.authorize("task-service", readOnly("h2").toBuilder().addRules(AuthorizationRule.newBuilder()
        .setPolicy("shop/writers").addTo(MethodMatch.newBuilder().setGrpcService("taskservice.TaskService")
            .addMethods("CreateTask"))).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> announcedHash().equals("h2"));
    assertThat(client.create("allowed now", "", "low", 1).getTitle()).isEqualTo("allowed now");

    controlPlane.authorize("task-service", InboundAuthorization.newBuilder().setHash("h3").setUnrestricted(true).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> announcedHash().equals("h3"));
    assertThat(client.get(1).getTitle()).isEqualTo("before any policy");
  }

  @Test
  void aDenyRuleRefusesEvenWhatTheDefaultLetsThrough() {
    controlPlane.authorize("task-service", InboundAuthorization.newBuilder().setHash("d1")
        .addRules(AuthorizationRule.newBuilder().setPolicy("shop/no-deletes").setDeny(true)
            .addTo(MethodMatch.newBuilder().setGrpcService("taskservice.TaskService").addMethods("DeleteTask")))
        .build());
    await().atMost(Duration.ofSeconds(30)).until(() -> announcedHash().equals("d1"));

    int id = client.create("kept", "", "low", 2).getId();
    assertThatThrownBy(() -> client.delete(id))
        .isInstanceOfSatisfying(StatusRuntimeException.class, refused -> assertThat(refused.getStatus().getDescription())
            .contains("deny rule", "shop/no-deletes"));
    assertThat(client.get(id).getTitle()).isEqualTo("kept");
  }

  /** Lists and reads for anyone, nothing else (the policy's default). */
  private static InboundAuthorization readOnly(String hash) {
    return InboundAuthorization.newBuilder().setHash(hash).setDefaultDeny(true).addDefaultDenyPolicies("shop/readers")
        .addRules(AuthorizationRule.newBuilder().setPolicy("shop/readers").addTo(MethodMatch.newBuilder()
            .setGrpcService("taskservice.TaskService").addMethods("ListTasks").addMethods("GetTask")))
        .build();
  }

  private String announcedHash() {
    var all = controlPlane.subscriptions();
    return all.isEmpty() ? "" : all.get(all.size() - 1).getNode().getAuthorizationHash();
  }
}
