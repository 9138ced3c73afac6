package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real entry point in its own JVM: SIGTERM stops it gracefully and nothing acknowledged is lost. */
class SigtermTest {

  @Test
  void sigtermStopsTheServerGracefullyAndTheTaskIsThereAfterARestart(@TempDir Path dir) throws Exception {
    int port = freePort();
    String url = "jdbc:h2:file:" + dir.resolve("tasks");
    Path log = dir.resolve("first.log");
    Process first = start(port, url, log);
    TaskResponse created;
    try (TaskClient client = TaskClient.connect("127.0.0.1:" + port)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> listening(port));
      created = client.create("survive SIGTERM", "", "", 3);
    }

    first.toHandle().destroy(); // SIGTERM

    assertThat(first.waitFor(60, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
    assertThat(Files.readString(log)).contains("event=server_stopping").contains("event=server_stopped");

    Process second = start(port, url, dir.resolve("second.log"));
    try (TaskClient client = TaskClient.connect("127.0.0.1:" + port)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> listening(port));
      assertThat(client.get(created.getId())).isEqualTo(created);
    } finally {
      second.toHandle().destroy();
      second.waitFor(60, TimeUnit.SECONDS);
    }
  }

  private static Process start(int port, String databaseUrl, Path log) throws IOException {
    List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.taskmesh.taskservice.Main",
        "--port", Integer.toString(port), "--bind", "127.0.0.1", "--database-url", databaseUrl);
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static boolean listening(int port) {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
