package io.taskmesh.operator;

import io.taskmesh.operator.api.MeshSpec;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.api.TaskServiceSpec;
import java.util.List;

/** TaskServices for tests. */
public final class TestTaskServices {
  public static final OperatorSettings SETTINGS =
      new OperatorSettings("taskmesh/taskmesh-proxy:test", "taskmesh/proxy-init:test", "taskmesh/task-service:test",
          "discovery.test:15010", List.of("regcred"));

  private TestTaskServices() {}

  public static TaskService withTimeout(String namespace, String name, String timeout) {
    TaskServiceSpec spec = new TaskServiceSpec();
    spec.mesh = new MeshSpec();
    spec.mesh.timeout = timeout;
    return new TaskService(namespace, name, spec);
  }
}
