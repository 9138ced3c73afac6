package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.reconciler.ProxyConfigRenderer;
import io.taskmesh.operator.reconciler.SpecProblems;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The example the README and the kind script apply is a valid TaskService that renders a valid proxy config. */
class ExampleTaskServiceTest {

  @Test
  void theExampleIsValidAndItsMeshSettingsReachTheProxyConfig() throws IOException {
    TaskService example = Serialization.unmarshal(Files.readString(Path.of("..", "examples", "taskservice.yaml")),
        TaskService.class);
    example.getMetadata().setNamespace("default");

    assertThat(SpecProblems.find(example, TestTaskServices.SETTINGS)).isEmpty();
    MeshConfig config = ProxyConfigRenderer.render(example, TestTaskServices.SETTINGS);
    assertThat(config.outbound().defaults().retries().perTryTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(config.inbound().rateLimit().requestsPerSecond()).isEqualTo(100);
    assertThat(config.tracing().exporter()).isEqualTo("zipkin");
  }
}
