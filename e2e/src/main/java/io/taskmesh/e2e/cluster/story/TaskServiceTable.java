package io.taskmesh.e2e.cluster.story;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.taskmesh.e2e.cluster.install.TaskmeshInstall;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * {@code kubectl get ts -w} as the story prints it: the CRD's printer columns (APPLIED, CONFIG, READY,
 * ADDRESS), one row whenever a TaskService's row changes, until a condition holds or a bound passes.
 */
final class TaskServiceTable {
  /** One printed row: the printer columns of the TaskService CRD. */
  record Row(String name, String applied, String config, String ready, String address) {
    String line() {
      return String.format("  %-18s %-8s %-17s %-6s %s", name, applied, config, ready, address);
    }
  }

  private final KubernetesClient api;
  private final PrintStream out;

  TaskServiceTable(KubernetesClient api, PrintStream out) {
    this.api = api;
    this.out = out;
  }

  /** Prints rows of {@code names} (namespace default) as they change until {@code done} holds for all; false past the bound. */
  boolean watchUntil(List<String> names, Predicate<Row> done, Duration bound) {
    out.println("  $ kubectl get ts -w");
    out.println(new Row("NAME", "APPLIED", "CONFIG", "READY", "ADDRESS").line());
    Map<String, Row> last = new java.util.HashMap<>();
    long giveUp = System.nanoTime() + bound.toNanos();
    while (true) {
      boolean all = true;
      for (String name : names) {
        Row row = row(name);
        if (!row.equals(last.put(name, row))) {
          out.println(row.line());
        }
        all &= done.test(row);
      }
      if (all) {
        return true;
      }
      if (Thread.currentThread().isInterrupted()) {
        return false;
      }
      if (System.nanoTime() > giveUp) {
        out.println("  (not there within " + bound.toSeconds() + " s)");
        return false;
      }
      Story.pause(200);
    }
  }

  Row row(String name) {
    GenericKubernetesResource taskService = api.genericKubernetesResources(TaskmeshInstall.TASK_SERVICE_API_VERSION,
        "TaskService").inNamespace("default").withName(name).get();
    @SuppressWarnings("unchecked")
    Map<String, Object> status = taskService == null ? null
        : (Map<String, Object>) taskService.getAdditionalProperties().get("status");
    return new Row(name, field(status, "configApplied"), field(status, "configHash"), field(status, "ready"),
        field(status, "serviceAddress"));
  }

  /** Ready N/N with every sidecar on the current config. */
  static boolean settled(Row row) {
    return isFull(row.ready()) && isFull(row.applied());
  }

  /** At least one pod ready. */
  static boolean serving(Row row) {
    String[] parts = row.ready().split("/");
    return parts.length == 2 && !parts[0].isEmpty() && !parts[0].equals("0");
  }

  private static boolean isFull(String fraction) {
    String[] parts = fraction.split("/");
    return parts.length == 2 && parts[0].equals(parts[1]) && !parts[0].equals("0");
  }

  private static String field(Map<String, Object> status, String key) {
    Object value = status == null ? null : status.get(key);
    return value == null ? "" : value.toString();
  }
}
