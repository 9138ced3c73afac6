package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.client.TaskClient;
import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** The client sidecar ejects endpoints by the service's {@code outlierDetection} policy from the config. */
class OutlierPolicyTest {

  @Test
  void aDeadEndpointIsEjectedAfterExactlyTheConfiguredConsecutiveFailures() throws Exception {
    int deadPort = freePort();
    try (MeshFixture mesh = new MeshFixture()) {
      // the defaults (5 failures, at most 50% of a cluster) would never eject the only endpoint
      Sidecar caller = mesh.sidecar(MeshConfigParser.parse("""
          service: caller
          inbound: {port: 0, appPort: 1}
          outbound:
            port: 0
            discovery: {static: {%s: ["127.0.0.1:%d"]}}
            upstreams:
              %s: {outlierDetection: {consecutiveFailures: 3, baseEjection: 10m, maxEjectionPercent: 100}}
          admin: {port: 0}
          """.formatted(MeshFixture.SERVICE, deadPort, MeshFixture.SERVICE)));
      TaskClient client = mesh.clientThrough(caller);
      AdminClient admin = new AdminClient(caller.adminPort());

      for (int failure = 1; failure <= 3; failure++) {
        StatusRuntimeException refused = catchThrowableOfType(() -> client.get(1), StatusRuntimeException.class);
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(refused.getStatus().getDescription()).contains("cannot connect");
        assertThat(admin.get("/clusters").body()).as("after failure %d", failure)
            .contains("\"address\":\"127.0.0.1:" + deadPort + "\"")
            .contains("\"ejected\":" + (failure == 3));
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
