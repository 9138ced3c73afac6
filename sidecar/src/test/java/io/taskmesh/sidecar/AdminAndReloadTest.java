package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.taskmesh.config.ConfigException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.MeshConfigWriter;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin pages, and hot reload of the config file with last-good fallback. */
class AdminAndReloadTest {
  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void adminPagesShowMetricsConfigHashClustersAndReadiness() {
    TaskServer backend = mesh.backend();
    Sidecar serverSide = mesh.serverSidecar(backend);
    Sidecar clientSide = mesh.clientSidecar("ROUND_ROBIN", backend.port());
    mesh.clientThrough(clientSide).create("counted", "", "low", 4);
    AdminClient admin = new AdminClient(clientSide.adminPort());

    assertThat(admin.get("/healthz").statusCode()).isEqualTo(200);
    AdminClient serverAdmin = new AdminClient(serverSide.adminPort());
    await().atMost(Duration.ofSeconds(30)).until(() -> serverAdmin.get("/ready").statusCode() == 200);
    assertThat(admin.get("/ready").statusCode()).as("the caller's app port 1 has no app").isEqualTo(503);
    assertThat(admin.get("/ready").body()).contains("local app 127.0.0.1:1");
    assertThat(admin.get("/metrics").body())
        .contains("taskmesh_requests_total{code=\"OK\",direction=\"outbound\",method=\"/taskservice.TaskService/CreateTask\",service=\"task-service\"} 1.0")
        .contains("taskmesh_request_duration_seconds_bucket{")
        .contains("taskmesh_endpoints{service=\"task-service\",state=\"active\"} 1.0");
    assertThat(admin.get("/config").body()).contains(MeshConfigWriter.hash(clientSide.config()));
    assertThat(admin.get("/clusters").body())
        .contains("\"task-service\":[{\"address\":\"127.0.0.1:" + backend.port() + "\",\"state\":\"ACTIVE\"");
    assertThat(admin.get("/nope").statusCode()).isEqualTo(404);

    serverSide.drain();
    assertThat(serverAdmin.get("/ready").statusCode()).isEqualTo(503);
    assertThat(serverAdmin.get("/ready").body()).contains("draining");
  }

  @Test
  void aConfigWithAWrongKeyIsRejectedNamingTheKeyAndTheLastGoodConfigKeepsServing(@TempDir Path dir)
      throws Exception {
    TaskServer first = mesh.backend();
    TaskServer second = mesh.backend();
    String good = MeshFixture.clientConfigYaml("ROUND_ROBIN", first.port());
    Path file = dir.resolve("proxy.yaml");
    Files.writeString(file, good);
    Sidecar clientSide = mesh.sidecar(MeshConfigParser.load(file));
    mesh.closeLater(clientSide.watchConfig(file, good, Duration.ofMillis(100)));
    TaskClient client = mesh.clientThrough(clientSide);
    String goodHash = MeshConfigWriter.hash(clientSide.config());

    String wrongKey = good.replace("loadBalancer:", "loadBalancr:");
    assertThatThrownBy(() -> MeshConfigParser.parse(wrongKey))
        .isInstanceOfSatisfying(ConfigException.class,
            e -> assertThat(e.getMessage()).contains("outbound.defaults.loadBalancr"));
    Files.writeString(file, wrongKey);
    AdminClient admin = new AdminClient(clientSide.adminPort());
    await().atMost(Duration.ofSeconds(30)).until(() ->
        admin.get("/metrics").body().contains("taskmesh_config_reloads_total{result=\"rejected\"} 1.0"));
    assertThat(MeshConfigWriter.hash(clientSide.config())).isEqualTo(goodHash);
    assertThat(client.create("still served", "", "low", 4).getTitle()).isEqualTo("still served");

    Files.writeString(file, MeshFixture.clientConfigYaml("ROUND_ROBIN", first.port(), second.port()));
    await().atMost(Duration.ofSeconds(30)).until(() ->
        clientSide.outboundClusters().cluster(MeshFixture.SERVICE).orElseThrow().endpoints().size() == 2);
    assertThat(admin.get("/config").body()).doesNotContain(goodHash);
  }
}
