package io.taskmesh.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.e2e.local.FreePorts;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench's TLS paths carry calls, and over TLS: starting a sidecar pair already fails unless it named the
 * expected engine and the server counted a TLS connection and no plaintext one (TlsTopologies checks it), and
 * haproxy's inbound side has no plaintext listener at all.
 */
class TlsTopologiesTest {
  @TempDir
  Path dir;
  private TaskServer app;
  private int taskId;

  @BeforeEach
  void startApp() {
    app = TaskServer.start(TaskServerOptions.defaults().withBindAddress("127.0.0.1").withPort(FreePorts.next())
        .withDatabaseUrl("jdbc:h2:mem:tls-topologies"));
    try (TaskClient client = TaskClient.connect("127.0.0.1:" + app.port())) {
      taskId = client.create("over tls", "read through both TLS pairs", "medium", 1).getId();
    }
  }

  @AfterEach
  void stopApp() {
    app.close();
  }

  @Test
  void theSidecarPairCarriesCallsOverMutualTlsWithEitherEngine() throws Exception {
    assertCallsGetThrough(TlsTopologies::taskmeshMtls, "taskmesh-mtls");
    assertCallsGetThrough(TlsTopologies::taskmeshMtlsJdk, "taskmesh-mtls-jdk");
  }

  @Test
  void theHaproxyPairCarriesCallsOverTlsWithTheIssuersCertificates() throws Exception {
    assumeTrue(List.of("/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy").stream()
        .anyMatch(path -> Files.isExecutable(Path.of(path))), "haproxy is not installed (apt-get install haproxy)");
    assertCallsGetThrough(TlsTopologies::haproxyTls, "haproxy-tls");
  }

  private void assertCallsGetThrough(Function<TlsTopologies, Topology> path, String name) throws Exception {
    Path work = Files.createDirectories(dir.resolve(name));
    try (TlsTopologies tls = new TlsTopologies(new Topologies(work, app.port()), work, app.port());
        Topology topology = path.apply(tls)) {
      assertThat(topology.name()).isEqualTo(name);
      assertThat(topology.proxyPids()).hasSize(2);
      NettyChannelBuilder builder = NettyChannelBuilder.forTarget(topology.target()).usePlaintext();
      if (topology.authority() != null) {
        builder.overrideAuthority(topology.authority());
      }
      ManagedChannel channel = builder.build();
      try {
        for (int i = 0; i < 20; i++) {
          assertThat(TaskServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
              .getTask(GetTaskRequest.newBuilder().setId(taskId).build()).getTitle()).isEqualTo("over tls");
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
