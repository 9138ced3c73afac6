package io.taskmesh.operator.api;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A meshed task service: the operator makes its Deployment (app + sidecar), Service and proxy config. */
@Group("taskmesh.io")
@Version("v1alpha1")
@Plural("taskservices")
@ShortNames("ts")
public class TaskService extends CustomResource<TaskServiceSpec, TaskServiceStatus> implements Namespaced {
  private static final long serialVersionUID = 1L;

  public TaskService() {
    // for deserialization
  }

  public TaskService(String namespace, String name, TaskServiceSpec spec) {
    getMetadata().setNamespace(namespace);
    getMetadata().setName(name);
    setSpec(spec);
  }
}
