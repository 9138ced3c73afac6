package io.taskmesh.e2e.cluster;

import io.grpc.StatusRuntimeException;
import io.taskmesh.taskservice.api.CreateTaskRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Continuous traffic from inside a pod, with nothing of the mesh in it: a plain {@link TaskClient} on
 * {@code --target}, creating a task and reading it back, again and again, bounded in calls and in time. It prints
 * its totals every second ({@code calls ok=N failed=M}) and each failure, so whoever reads the container's log
 * knows whether a call failed while the cluster changed underneath.
 */
@Command(name = "call-loop", mixinStandardHelpOptions = true,
    description = "Create and read back tasks in a loop; prints totals every second and every failure.")
public final class CallLoop implements Callable<Integer> {
  private static final Pattern TOTALS = Pattern.compile("calls ok=(\\d+) failed=(\\d+)");

  @Option(names = "--target", required = true, description = "host:port of the task service")
  String target;

  @Option(names = "--max-calls", defaultValue = "100000", description = "stop after this many calls")
  long maxCalls;

  @Option(names = "--max-duration", defaultValue = "PT10M", description = "stop after this long (ISO-8601)")
  Duration maxDuration;

  @Option(names = "--pause", defaultValue = "PT0.05S", description = "between two rounds (ISO-8601)")
  Duration pause;

  /** Totals as a log line shows them. */
  public record Totals(long ok, long failed) {
    /** The totals on the last line of {@code log} that has them; zero when none has. */
    public static Totals last(String log) {
      Totals totals = new Totals(0, 0);
      Matcher matcher = TOTALS.matcher(log);
      while (matcher.find()) {
        totals = new Totals(Long.parseLong(matcher.group(1)), Long.parseLong(matcher.group(2)));
      }
      return totals;
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new CallLoop()).execute(args));
  }

  @Override
  public Integer call() throws InterruptedException {
    long ok = 0;
    long failed = 0;
    long giveUp = System.nanoTime() + maxDuration.toNanos();
    long nextReport = System.nanoTime();
    try (TaskClient client = TaskClient.connect(target)) {
      for (long round = 1; ok + failed < maxCalls && System.nanoTime() < giveUp; round++) {
        String step = "create";
        try {
          TaskResponse created = client.create(CreateTaskRequest.newBuilder().setTitle("call-loop " + round).setUserId(1).build());
          ok++;
          step = "get";
          TaskResponse read = client.get(created.getId());
          if (!read.getTitle().equals(created.getTitle())) {
            throw new IllegalStateException("task " + created.getId() + " read back as \"" + read.getTitle() + "\"");
          }
          ok++;
        } catch (StatusRuntimeException | IllegalStateException e) {
          failed++;
          System.out.println("call_failed round=" + round + " step=" + step + " error=" + e.getMessage());
        }
        if (System.nanoTime() >= nextReport) {
          System.out.println("calls ok=" + ok + " failed=" + failed);
          nextReport = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        }
        Thread.sleep(pause.toMillis());
      }
    }
    System.out.println("calls ok=" + ok + " failed=" + failed);
    System.out.println("done");
    return failed == 0 ? 0 : 1;
  }
}
