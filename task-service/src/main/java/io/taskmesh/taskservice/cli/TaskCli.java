package io.taskmesh.taskservice.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.taskservice.api.CreateTaskRequest;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * Try the task service (or the mesh) by hand. Prints one JSON object per line (proto field names, as the gateway does); a failed call prints
 * its gRPC status and message to stderr and exits 1.
 */
@Command(name = "task-cli", mixinStandardHelpOptions = true,
    description = "Create, read, update, delete, list and watch tasks over gRPC.",
    subcommands = {TaskCli.Create.class, TaskCli.Get.class, TaskCli.Update.class, TaskCli.Delete.class,
        TaskCli.ListTasks.class, TaskCli.Watch.class})
public final class TaskCli {

  @Option(names = "--target", defaultValue = "${env:TASKMESH_TARGET:-127.0.0.1:50051}",
      description = "host:port to call (TASKMESH_TARGET, default ${DEFAULT-VALUE}); 127.0.0.1:15001 is the local sidecar")
  String target;

  @Option(names = "--authority", description = "service name to call through a sidecar, e.g. task-service")
  String authority;

  @Option(names = "--deadline-ms", defaultValue = "5000", description = "deadline of each call (default ${DEFAULT-VALUE})")
  long deadlineMillis;

  @Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the CLI with the given output streams and returns its exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new TaskCli());
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof StatusRuntimeException status) {
        line.getErr().println("error: " + status.getStatus().getCode() + ": " + status.getStatus().getDescription());
        return 1;
      }
      throw e;
    });
    return commandLine.execute(args);
  }

  TaskClient client() {
    return TaskClient.connect(target, authority, Duration.ofMillis(deadlineMillis));
  }

  void print(MessageOrBuilder message) {
    try {
      spec.commandLine().getOut().println(
          JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace().print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  @Command(name = "create", description = "Create a task.")
  static final class Create implements Runnable {
    @ParentCommand TaskCli cli;
    @Option(names = "--title", required = true) String title;
    @Option(names = "--description", defaultValue = "") String description;
    @Option(names = "--priority", defaultValue = "", description = "low, medium (default), high or urgent") String priority;
    @Option(names = "--status", defaultValue = "", description = "todo (default), in_progress or done") String status;
    @Option(names = "--user-id", required = true) int userId;
    @Option(names = "--project-id", defaultValue = "0", description = "0 (default) means no project") int projectId;

    @Override
    public void run() {
      try (TaskClient client = cli.client()) {
        cli.print(client.create(CreateTaskRequest.newBuilder().setTitle(title).setDescription(description)
            .setPriority(priority).setStatus(status).setUserId(userId).setProjectId(projectId).build()));
      }
    }
  }

  @Command(name = "get", description = "Show one task.")
  static final class Get implements Runnable {
    @ParentCommand TaskCli cli;
    @Parameters(paramLabel = "ID") int id;

    @Override
    public void run() {
      try (TaskClient client = cli.client()) {
        cli.print(client.get(id));
      }
    }
  }

  @Command(name = "update", description = "Change the fields given; the others stay as they are.")
  static final class Update implements Runnable {
    @ParentCommand TaskCli cli;
    @Parameters(paramLabel = "ID") int id;
    @Option(names = "--title") String title;
    @Option(names = "--description") String description;
    @Option(names = "--status", description = "todo, in_progress or done") String status;
    @Option(names = "--priority") String priority;

    @Override
    public void run() {
      UpdateTaskRequest.Builder request = UpdateTaskRequest.newBuilder().setId(id);
      if (title != null) {
        request.setTitle(title);
      }
      if (description != null) {
        request.setDescription(description);
      }
      if (status != null) {
        request.setStatus(status);
      }
      if (priority != null) {
        request.setPriority(priority);
      }
      try (TaskClient client = cli.client()) {
        cli.print(client.update(request.build()));
      }
    }
  }

  @Command(name = "delete", description = "Delete a task.")
  static final class Delete implements Runnable {
    @ParentCommand TaskCli cli;
    @Parameters(paramLabel = "ID") int id;

    @Override
    public void run() {
      try (TaskClient client = cli.client()) {
        cli.print(client.delete(id));
      }
    }
  }

  @Command(name = "list", description = "List tasks, oldest first.")
  static final class ListTasks implements Runnable {
    @ParentCommand TaskCli cli;
    @Option(names = "--user-id", required = true) int userId;
    @Option(names = "--status", defaultValue = "") String status;
    @Option(names = "--limit", defaultValue = "0", description = "1 to 500; 0 means 10") int limit;
    @Option(names = "--offset", defaultValue = "0") int offset;

    @Override
    public void run() {
      try (TaskClient client = cli.client()) {
        client.list(ListTasksRequest.newBuilder().setUserId(userId).setStatus(status).setLimit(limit).setOffset(offset)
            .build()).forEach(cli::print);
      }
    }
  }

  @Command(name = "watch", description = "Print task changes as they happen, until interrupted or --count are seen.")
  static final class Watch implements Runnable {
    @ParentCommand TaskCli cli;
    @Option(names = "--user-id", defaultValue = "0", description = "a user's tasks (this, --task-id or both)") int userId;
    @Option(names = "--task-id") List<Integer> taskIds = List.of();
    @Option(names = "--count", defaultValue = "0", description = "stop after this many events (0: never)") int count;

    @Override
    public void run() {
      CountDownLatch done = new CountDownLatch(1);
      AtomicReference<Status> end = new AtomicReference<>(Status.OK);
      AtomicInteger seen = new AtomicInteger();
      try (TaskClient client = cli.client()) {
        TaskClient.Subscription subscription = client.subscribe(
            TaskSubscriptionRequest.newBuilder().setUserId(userId).addAllTaskIds(taskIds).build(),
            event -> {
              cli.print(event);
              if (count > 0 && seen.incrementAndGet() >= count) {
                done.countDown();
              }
            },
            status -> {
              end.set(status);
              done.countDown();
            });
        done.await();
        if (count > 0 && seen.get() >= count) {
          subscription.cancel();
        } else if (!end.get().isOk()) {
          throw end.get().asRuntimeException();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
