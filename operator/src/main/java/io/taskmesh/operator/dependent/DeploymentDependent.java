package io.taskmesh.operator.dependent;

import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStrategy;
import io.fabric8.kubernetes.api.model.apps.DeploymentStrategyBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.api.TaskServiceSpec;
import io.taskmesh.operator.inject.SidecarInjection;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The workload: the app listening on 127.0.0.1 only, and the sidecar as a native sidecar in front of it, after
 * the capture's init container has sent the pod's TCP through it (the app port's inbound traffic to 15006,
 * everything the app opens to 15001).
 * The pod template holds nothing from {@code spec.mesh}: a mesh change only changes the ConfigMap, which
 * the sidecars reload, so the app is not restarted.
 *
 * <p>On the embedded store the one pod mounts the claim of {@link DataVolumeClaimDependent} and rolls out
 * by Recreate: the old pod stops before the new one opens the store, so two writers never share it (and a
 * ReadWriteOnce claim could not be mounted on two nodes anyway). On PostgreSQL pods roll one at a time with
 * no loss of capacity. The proxy image is the one {@link ProxyImage} chooses.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR))
public class DeploymentDependent extends CRUDKubernetesDependentResource<Deployment, TaskService> {
  static final String DATA_VOLUME = "data";
  static final String APP_CONTAINER = "task-service";

  public DeploymentDependent() {
    super(Deployment.class);
  }

  @Override
  protected Deployment desired(TaskService service, Context<TaskService> context) {
    return build(service, ReconcileInputs.settings(context), context.getSecondaryResource(Deployment.class));
  }

  /** The Deployment of a TaskService that has none yet. */
  public static Deployment build(TaskService service, OperatorSettings settings) {
    return build(service, settings, Optional.empty());
  }

  /** @param current the Deployment as it is now: its proxy image is kept unless the spec says otherwise */
  public static Deployment build(TaskService service, OperatorSettings settings, Optional<Deployment> current) {
    TaskServiceSpec spec = service.getSpec();
    return new DeploymentBuilder()
        .withMetadata(Labels.metadata(service, service.getMetadata().getName()))
        .withNewSpec()
          .withReplicas(spec.replicasOrDefault())
          .withNewSelector().withMatchLabels(Labels.selector(service)).endSelector()
          .withStrategy(strategy(spec))
          .withNewTemplate()
            .withNewMetadata()
              .withLabels(Labels.of(service))
              .addToLabels(settings.sidecarIdentity().enabled()
                  ? Map.of(SidecarInjection.TLS_MODE_LABEL, SidecarInjection.TLS_MODE_MTLS) : Map.of())
              .withAnnotations(Map.of(
                  "prometheus.io/scrape", "true",
                  "prometheus.io/port", Integer.toString(SidecarInjection.ADMIN_PORT),
                  "prometheus.io/path", "/metrics",
                  "taskmesh.io/inject", "false"))
            .endMetadata()
            .withNewSpec()
              .withServiceAccountName(service.getMetadata().getName())
              .withImagePullSecrets(pullSecrets(spec, settings))
              .withNewSecurityContext()
                .withRunAsNonRoot(true).withRunAsUser(65532L).withFsGroup(65532L)
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
              .endSecurityContext()
              .withInitContainers(initContainers(service, settings, current))
              .withContainers(app(service, settings, current))
              .addToVolumes(SidecarInjection.configVolume(Labels.proxyConfigMapName(service)))
              .addToVolumes(volumes(service).toArray(Volume[]::new))
              .addToVolumes(settings.sidecarIdentity().enabled()
                  ? SidecarInjection.identityVolumes().toArray(Volume[]::new) : new Volume[0])
            .endSpec()
          .endTemplate()
        .endSpec()
        .build();
  }

  /**
   * The capture's init container, then the proxy. A pod that keeps the proxy container of an older operator
   * (see {@link ProxyImage}) keeps its old shape too: that proxy does not run as the UID the capture spares,
   * so capturing its traffic would loop it back into itself.
   */
  private static List<Container> initContainers(TaskService service, OperatorSettings settings,
      Optional<Deployment> current) {
    Container kept = ProxyImage.container(service, current, settings);
    Container proxy = settings.sidecarIdentity().enabled() ? SidecarInjection.withIdentityMounts(kept) : kept;
    if (!SidecarInjection.runsAsProxyUid(proxy)) {
      return List.of(proxy);
    }
    return List.of(SidecarInjection.captureInit(settings.proxyInitImage(),
        SidecarInjection.Capture.inbound(service.getSpec().portOrDefault())), proxy);
  }

  /** The TaskService's own pull secrets, then the operator's. */
  private static List<LocalObjectReference> pullSecrets(TaskServiceSpec spec, OperatorSettings settings) {
    Set<String> names = new LinkedHashSet<>();
    if (spec.imagePullSecrets != null) {
      spec.imagePullSecrets.forEach(secret -> names.add(secret.getName()));
    }
    names.addAll(settings.imagePullSecrets());
    return names.stream().map(LocalObjectReference::new).toList();
  }

  private static DeploymentStrategy strategy(TaskServiceSpec spec) {
    if (spec.embeddedStore()) {
      return new DeploymentStrategyBuilder().withType("Recreate").build();
    }
    return new DeploymentStrategyBuilder().withType("RollingUpdate")
        .withNewRollingUpdate().withMaxUnavailable(new IntOrString(0)).withMaxSurge(new IntOrString(1))
        .endRollingUpdate().build();
  }

  private static List<Volume> volumes(TaskService service) {
    List<Volume> volumes = new ArrayList<>();
    if (service.getSpec().embeddedStore()) {
      volumes.add(new VolumeBuilder().withName(DATA_VOLUME)
          .withNewPersistentVolumeClaim().withClaimName(Labels.dataClaimName(service)).endPersistentVolumeClaim()
          .build());
    }
    volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
    return volumes;
  }

  /**
   * {@code spec.image}, else the image the app runs now, else the operator's default: like the proxy, the
   * default app image of a new operator version reaches only new TaskServices, so an upgrade rolls nothing.
   */
  private static String appImage(TaskServiceSpec spec, Optional<Deployment> current, OperatorSettings settings) {
    if (spec.image != null && !spec.image.isBlank()) {
      return spec.image;
    }
    return current.flatMap(d -> d.getSpec().getTemplate().getSpec().getContainers().stream()
            .filter(c -> APP_CONTAINER.equals(c.getName())).findFirst())
        .map(Container::getImage).orElse(settings.taskServiceImage());
  }

  private static Container app(TaskService service, OperatorSettings settings, Optional<Deployment> current) {
    TaskServiceSpec spec = service.getSpec();
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVar("TASK_SERVICE_PORT", Integer.toString(spec.portOrDefault()), null));
    env.add(new EnvVar("TASK_SERVICE_BIND", "127.0.0.1", null));
    if (!spec.embeddedStore()) {
      env.add(new EnvVarBuilder().withName("TASK_SERVICE_DATABASE_URL")
          .withNewValueFrom().withSecretKeyRef(spec.database.postgresUrlSecret).endValueFrom().build());
    } else {
      env.add(new EnvVar("TASK_SERVICE_DATABASE_URL", "jdbc:h2:file:/data/tasks", null));
    }
    env.add(SidecarInjection.outboundEnv());
    if (spec.env != null) {
      spec.env.forEach(variable -> env.add(variable.toEnvVar()));
    }
    ContainerBuilder app = new ContainerBuilder()
        .withName(APP_CONTAINER)
        .withImage(appImage(spec, current, settings))
        .withEnv(env)
        .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
        .withNewSecurityContext()
          .withRunAsNonRoot(true).withReadOnlyRootFilesystem(true).withAllowPrivilegeEscalation(false)
          .withNewCapabilities().addToDrop("ALL").endCapabilities()
        .endSecurityContext();
    if (spec.embeddedStore()) {
      app.addNewVolumeMount().withName(DATA_VOLUME).withMountPath("/data").endVolumeMount();
    }
    if (spec.resources != null) {
      app.withResources(spec.resources);
    }
    return app.build();
  }
}
