package io.taskmesh.operator.dependent;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.api.TaskServiceSpec;
import io.taskmesh.operator.inject.SidecarInjection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The workload: the app listening on 127.0.0.1 only, and the sidecar as a native sidecar in front of it, after
 * the capture's init container has sent the pod's TCP through it (the app port's inbound traffic to 15006,
 * everything the app opens to 15001).
 * The pod template holds nothing from {@code spec.mesh}: a mesh change only changes the ConfigMap, which
 * the sidecars reload, so the app is not restarted.
 */
public class DeploymentDependent extends CRUDKubernetesDependentResource<Deployment, TaskService> {
  static final String DATA_VOLUME = "data";

  public DeploymentDependent() {
    super(Deployment.class);
  }

  @Override
  protected Deployment desired(TaskService service, Context<TaskService> context) {
    return build(service, OperatorSettings.CURRENT);
  }

  public static Deployment build(TaskService service, OperatorSettings settings) {
    TaskServiceSpec spec = service.getSpec();
    return new DeploymentBuilder()
        .withMetadata(Labels.metadata(service, service.getMetadata().getName()))
        .withNewSpec()
          .withReplicas(spec.replicasOrDefault())
          .withNewSelector().withMatchLabels(Labels.selector(service)).endSelector()
          .withNewStrategy().withType("RollingUpdate")
            .withNewRollingUpdate().withMaxUnavailable(new io.fabric8.kubernetes.api.model.IntOrString(0))
              .withMaxSurge(new io.fabric8.kubernetes.api.model.IntOrString(1)).endRollingUpdate()
          .endStrategy()
          .withNewTemplate()
            .withNewMetadata()
              .withLabels(Labels.of(service))
              .withAnnotations(Map.of(
                  "prometheus.io/scrape", "true",
                  "prometheus.io/port", Integer.toString(SidecarInjection.ADMIN_PORT),
                  "prometheus.io/path", "/metrics",
                  "taskmesh.io/inject", "false"))
            .endMetadata()
            .withNewSpec()
              .withServiceAccountName(service.getMetadata().getName())
              .withNewSecurityContext()
                .withRunAsNonRoot(true).withRunAsUser(65532L).withFsGroup(65532L)
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
              .endSecurityContext()
              .withInitContainers(
                  SidecarInjection.captureInit(settings.proxyInitImage(),
                      SidecarInjection.Capture.inbound(spec.portOrDefault())),
                  SidecarInjection.container(settings.proxyImage()))
              .withContainers(app(service, settings))
              .addToVolumes(SidecarInjection.configVolume(Labels.proxyConfigMapName(service)))
              .addNewVolume().withName(DATA_VOLUME).withNewEmptyDir().endEmptyDir().endVolume()
              .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
            .endSpec()
          .endTemplate()
        .endSpec()
        .build();
  }

  private static Container app(TaskService service, OperatorSettings settings) {
    TaskServiceSpec spec = service.getSpec();
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVar("TASK_SERVICE_PORT", Integer.toString(spec.portOrDefault()), null));
    env.add(new EnvVar("TASK_SERVICE_BIND", "127.0.0.1", null));
    if (spec.database != null && spec.database.postgresUrlSecret != null) {
      env.add(new EnvVarBuilder().withName("TASK_SERVICE_DATABASE_URL")
          .withNewValueFrom().withSecretKeyRef(spec.database.postgresUrlSecret).endValueFrom().build());
    } else {
      env.add(new EnvVar("TASK_SERVICE_DATABASE_URL", "jdbc:h2:file:/data/tasks", null));
    }
    env.add(SidecarInjection.outboundEnv());
    if (spec.env != null) {
      env.addAll(spec.env);
    }
    ContainerBuilder app = new ContainerBuilder()
        .withName("task-service")
        .withImage(spec.image == null || spec.image.isBlank() ? settings.taskServiceImage() : spec.image)
        .withEnv(env)
        .addNewVolumeMount().withName(DATA_VOLUME).withMountPath("/data").endVolumeMount()
        .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
        .withNewSecurityContext()
          .withRunAsNonRoot(true).withReadOnlyRootFilesystem(true).withAllowPrivilegeEscalation(false)
          .withNewCapabilities().addToDrop("ALL").endCapabilities()
        .endSecurityContext();
    if (spec.resources != null) {
      app.withResources(spec.resources);
    }
    return app.build();
  }
}
