package io.taskmesh.sidecar;

import static org.awaitility.Awaitility.await;

import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.PatienceBackend;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** An app without a gRPC health service (as in pods the webhook injects) is ready while it listens. */
class ReadinessTest {

  @Test
  void anAppWithoutAHealthServiceIsReadyWhileItAcceptsConnections() throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      PatienceBackend app = new PatienceBackend("no-health", 0);
      Sidecar sidecar = mesh.sidecar(MeshConfigParser.parse("""
          service: plain-app
          inbound: {port: 0, appPort: %d}
          outbound: {port: 0}
          admin: {port: 0}
          """.formatted(app.port())));
      AdminClient admin = new AdminClient(sidecar.adminPort());

      await().atMost(Duration.ofSeconds(30)).until(() -> admin.get("/ready").statusCode() == 200);
      app.close();
      await().atMost(Duration.ofSeconds(30)).until(() -> admin.get("/ready").statusCode() == 503);
    }
  }
}
