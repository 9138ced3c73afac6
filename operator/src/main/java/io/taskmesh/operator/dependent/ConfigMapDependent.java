package io.taskmesh.operator.dependent;

import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigWriter;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.reconciler.ProxyConfigRenderer;
import java.util.Map;

/** ConfigMap {@code <name>-proxy}: the sidecar's config file; sidecars reload it when it changes. */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR))
public class ConfigMapDependent extends CRUDKubernetesDependentResource<ConfigMap, TaskService> {
  public static final String CONFIG_KEY = "proxy.yaml";
  public static final String HASH_ANNOTATION = "taskmesh.io/config-hash";

  public ConfigMapDependent() {
    super(ConfigMap.class);
  }

  @Override
  protected ConfigMap desired(TaskService service, Context<TaskService> context) {
    return build(service, ReconcileInputs.settings(context));
  }

  public static ConfigMap build(TaskService service, OperatorSettings settings) {
    MeshConfig config = ProxyConfigRenderer.render(service, settings);
    return new ConfigMapBuilder()
        .withMetadata(Labels.metadata(service, Labels.proxyConfigMapName(service)))
        .editMetadata().withAnnotations(Map.of(HASH_ANNOTATION, MeshConfigWriter.hash(config))).endMetadata()
        .withData(Map.of(CONFIG_KEY, MeshConfigWriter.toYaml(config)))
        .build();
  }
}
