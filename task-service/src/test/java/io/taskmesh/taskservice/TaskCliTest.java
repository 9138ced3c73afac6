package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.taskservice.cli.TaskCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TaskCliTest {
  private static TaskServer server;

  @BeforeAll
  static void start() {
    server = TaskServer.start(TaskServerOptions.defaults().withBindAddress("127.0.0.1").withPort(0)
        .withDatabaseUrl("jdbc:h2:mem:cli-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void createGetUpdateListAndDeleteFromTheCommandLine() {
    Run created = cli("create", "--title", "from the CLI", "--user-id", "41", "--priority", "high", "--project-id", "9");
    assertThat(created.exitCode()).isZero();
    String id = created.out().replaceAll("(?s).*\"id\":(\\d+).*", "$1");

    assertThat(cli("get", id).out()).contains("\"title\":\"from the CLI\"").contains("\"priority\":\"high\"")
        .contains("\"user_id\":41").contains("\"project_id\":9");
    assertThat(cli("update", id, "--status", "done").out()).contains("\"status\":\"done\"").contains("from the CLI");
    assertThat(cli("list", "--user-id", "41").out().lines()).hasSize(1);
    assertThat(cli("delete", id).out()).contains("\"success\":true");
  }

  @Test
  void aFailedCallPrintsItsStatusAndExitsWithOne() {
    Run missing = cli("get", "999999");

    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err()).contains("error: NOT_FOUND: task 999999 not found");
  }

  private record Run(int exitCode, String out, String err) {}

  private static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] all = new String[args.length + 2];
    all[0] = "--target";
    all[1] = "127.0.0.1:" + server.port();
    System.arraycopy(args, 0, all, 2, args.length);
    int code = TaskCli.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }
}
