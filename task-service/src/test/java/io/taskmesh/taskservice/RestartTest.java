package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestartTest {

  @Test
  void anAcknowledgedTaskSurvivesARestartOnTheDefaultFileStore(@TempDir Path data) {
    TaskServerOptions options = TaskServerOptions.defaults()
        .withBindAddress("127.0.0.1").withPort(0)
        .withDatabaseUrl("jdbc:h2:file:" + data.resolve("tasks"));
    TaskResponse created;
    try (TaskServer server = TaskServer.start(options);
        TaskClient client = TaskClient.connect("127.0.0.1:" + server.port())) {
      created = client.create("survive the restart", "", "urgent", 12);
    }

    try (TaskServer restarted = TaskServer.start(options);
        TaskClient client = TaskClient.connect("127.0.0.1:" + restarted.port())) {
      assertThat(client.get(created.getId())).isEqualTo(created);
    }
  }
}
