package io.taskmesh.operator.dependent;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.SidecarSpec;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.inject.SidecarInjection;
import java.util.Optional;

/**
 * Which proxy a TaskService's pods run. An operator upgrade brings a new proxy image (and perhaps new flags
 * or defaults for its container), and putting it in every pod template would roll every TaskService at
 * once; so, as meshes do, running pods keep their proxy container until the user asks:
 * {@code spec.sidecar.image} names an image, or {@code spec.sidecar.upgradePolicy: Automatic} follows the
 * operator. New TaskServices start on the operator's. {@code spec.sidecar.resources} applies either way.
 */
public final class ProxyImage {
  private ProxyImage() {}

  /** @param current the Deployment as it is now, if it exists */
  public static Container container(TaskService service, Optional<Deployment> current, OperatorSettings settings) {
    SidecarSpec sidecar = service.getSpec().sidecarOrDefault();
    boolean named = sidecar.image != null && !sidecar.image.isBlank();
    if (!named && sidecar.upgradePolicyOrDefault() == SidecarSpec.UpgradePolicy.Manual) {
      Optional<Container> running = runningContainer(current);
      if (running.isPresent()) {
        Container kept = new ContainerBuilder(running.get()).build();
        if (sidecar.resources != null) {
          kept.setResources(sidecar.resources);
        }
        return kept;
      }
    }
    return SidecarInjection.container(named ? sidecar.image : settings.proxyImage(),
        SidecarInjection.resourcesOr(sidecar.resources));
  }

  /** The proxy image in the Deployment's pod template. */
  public static Optional<String> running(Optional<Deployment> deployment) {
    return runningContainer(deployment).map(Container::getImage);
  }

  private static Optional<Container> runningContainer(Optional<Deployment> deployment) {
    return deployment.map(d -> d.getSpec().getTemplate().getSpec())
        .flatMap(pod -> pod.getInitContainers().stream()
            .filter(c -> SidecarInjection.CONTAINER_NAME.equals(c.getName())).findFirst());
  }
}
