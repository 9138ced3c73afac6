package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** Without a descriptor file the gateway asks the service itself, by server reflection through the mesh. */
class GatewayReflectionTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void withoutADescriptorFileTheMethodsAreLearnedByReflection() throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      Sidecar serverSide = mesh.serverSidecar(mesh.backend());
      Sidecar gateway = GatewayFixture.gateway(mesh, null, "{requestsPerMinute: 100000}", serverSide.inboundPort());
      HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());

      HttpResponse<String> created = http.send("POST", "/api/tasks", "{\"title\": \"reflected\", \"user_id\": 6}");
      assertThat(created.statusCode()).isEqualTo(200);
      String id = JSON.readTree(created.body()).at("/id").asText();
      HttpResponse<String> got = http.send("GET", "/api/tasks/" + id, null);
      assertThat(JSON.readTree(got.body()).at("/title").asText()).isEqualTo("reflected");
      HttpResponse<String> unknown = http.send("POST", "/api/tasks", "{\"colour\": \"red\"}");
      assertThat(unknown.statusCode()).isEqualTo(400);
      assertThat(unknown.body()).contains("'colour'");
    }
  }

  @Test
  void whenTheServiceCannotBeReachedTheAnswerIs503AndALaterRequestAsksAgain() throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      Sidecar serverSide = mesh.serverSidecar(mesh.backend());
      // the gateway knows an endpoint nobody listens on first; reflection fails and is not cached
      Sidecar gateway = GatewayFixture.gateway(mesh, null, "{requestsPerMinute: 100000}", 1);
      HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());
      HttpResponse<String> unavailable = http.send("GET", "/api/tasks/999999", null);
      assertThat(unavailable.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(unavailable.body()).get("code").asText()).isEqualTo("UNAVAILABLE");
      assertThat(JSON.readTree(unavailable.body()).get("message").asText()).contains("task-service");

      gateway.outboundClusters().onEndpoints(MeshFixture.SERVICE,
          java.util.List.of(new io.taskmesh.sidecar.discovery.EndpointAddress("127.0.0.1", serverSide.inboundPort())));
      assertThat(http.send("GET", "/api/tasks/999999", null).statusCode()).isEqualTo(404);
    }
  }
}
