package io.taskmesh.operator.dependent;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.SidecarSpec;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.inject.SidecarInjection;
import java.util.Optional;

/**
 * Which proxy image a TaskService's pods run. An operator upgrade brings a new proxy image, and putting it
 * in every pod template would roll every TaskService at once; so, as meshes do, running pods keep their
 * proxy until the user asks: {@code spec.sidecar.image} names one, or {@code spec.sidecar.upgradePolicy:
 * Automatic} follows the operator. New TaskServices start on the operator's image.
 */
public final class ProxyImage {
  private ProxyImage() {}

  /** @param current the Deployment as it is now, if it exists */
  public static String chosen(TaskService service, Optional<Deployment> current, OperatorSettings settings) {
    SidecarSpec sidecar = service.getSpec().sidecarOrDefault();
    if (sidecar.image != null && !sidecar.image.isBlank()) {
      return sidecar.image;
    }
    if (sidecar.upgradePolicyOrDefault() == SidecarSpec.UpgradePolicy.Automatic) {
      return settings.proxyImage();
    }
    return running(current).orElse(settings.proxyImage());
  }

  /** The proxy image in the Deployment's pod template. */
  public static Optional<String> running(Optional<Deployment> deployment) {
    return deployment.map(d -> d.getSpec().getTemplate().getSpec())
        .flatMap(pod -> pod.getInitContainers().stream()
            .filter(c -> SidecarInjection.CONTAINER_NAME.equals(c.getName())).findFirst())
        .map(Container::getImage);
  }
}
