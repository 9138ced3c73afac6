package io.taskmesh.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.taskmesh.taskservice.api.CreateTaskRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL outside the cluster, published as a Service without a selector: a pod reaches it by name and with
 * the password of the URL, and what it writes is in the database this host runs.
 */
class ExternalServicesTest {
  private static ClusterFixture fixture;

  @BeforeAll
  static void start() throws Exception {
    fixture = ClusterFixture.start("tmext", false);
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void aPodStoresTasksInTheExternalPostgresByItsServiceName() throws Exception {
    ExternalServices.Postgres postgres = fixture.cluster.externalServices().postgres();
    assertThat(fixture.cluster.externalServices().postgres()).as("started once").isSameAs(postgres);
    assertThat(fixture.api().services().inNamespace("default").withName("postgres").get().getSpec().getSelector())
        .as("a Service without a selector").isNullOrEmpty();
    fixture.api().secrets().resource(postgres.urlSecret("default", "tasks-db")).create();
    fixture.api().pods().inNamespace("default").resource(new PodBuilder().withNewMetadata().withName("tasks")
        .endMetadata().withNewSpec().addNewContainer().withName("app").withImage("taskmesh/task-service:0.1.0-SNAPSHOT")
        .addNewEnv().withName("TASK_SERVICE_DATABASE_URL").withNewValueFrom().withNewSecretKeyRef("url", "tasks-db", false)
        .endValueFrom().endEnv()
        .withNewReadinessProbe().withNewTcpSocket().withNewPort(50051).endTcpSocket().withPeriodSeconds(1)
        .endReadinessProbe().endContainer().endSpec().build()).create();

    Pod ready = await("the pod ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() ->
        fixture.api().pods().inNamespace("default").withName("tasks").get(), ClusterFixture::ready);
    long id;
    try (TaskClient client = TaskClient.connect(ready.getStatus().getPodIP() + ":50051")) {
      id = client.create(CreateTaskRequest.newBuilder().setTitle("stored outside").setUserId(7).build()).getId();
    }
    try (Connection connection = DriverManager.getConnection(postgres.hostJdbcUrl());
        PreparedStatement query = connection.prepareStatement("SELECT title FROM tasks WHERE id = ?")) {
      query.setLong(1, id);
      try (ResultSet row = query.executeQuery()) {
        assertThat(row.next()).as("task %s in the host's PostgreSQL", id).isTrue();
        assertThat(row.getString(1)).isEqualTo("stored outside");
      }
    }
  }

  @Test
  void aConnectionWithoutThePasswordIsRefusedFromTheClusterSide() throws Exception {
    ExternalServices.Postgres postgres = fixture.cluster.externalServices().postgres();
    String viaNodeLink = "jdbc:postgresql://" + postgres.service().hostAddress().getHostAddress() + ":"
        + postgres.service().hostPort() + "/postgres?user=postgres&connectTimeout=5";
    // from this host the node link's address is local: PostgreSQL sees it as the source, which is not loopback
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DriverManager.getConnection(viaNodeLink).close())
        .hasMessageContaining("password");
  }
}
