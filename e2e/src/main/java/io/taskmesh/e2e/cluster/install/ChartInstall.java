package io.taskmesh.e2e.cluster.install;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code helm install <release> <chart> -n <namespace> --create-namespace} as far as the cluster sees it: the
 * chart rendered by the real Helm engine (helm-java) with its default values for this cluster's Kubernetes
 * version, then every object created as rendered - CRDs first, then in Helm's install order by kind - with
 * the ownership labels and annotations Helm puts on what it manages.
 */
public final class ChartInstall {
  /** The Kubernetes version the local API server reports, which the chart is rendered for. */
  public static final String KUBE_VERSION = "v1.31.0";
  /** Helm's InstallOrder (pkg/release/util/kind_sorter.go), the kinds this chart and its likes use. */
  private static final List<String> INSTALL_ORDER = List.of("PriorityClass", "Namespace", "NetworkPolicy",
      "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret",
      "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
      "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList",
      "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
      "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass",
      "Ingress", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration");

  private ChartInstall() {}

  /** Renders and creates; returns the objects in the order they were created. */
  public static List<HasMetadata> install(KubernetesClient api, Path chart, String release, String namespace,
      Map<String, Object> values) {
    var template = new Helm(chart).template().withName(release).withNamespace(namespace).withKubeVersion(KUBE_VERSION);
    values.forEach(template::set);
    List<HasMetadata> objects = new ArrayList<>(parse(template.call()));
    objects.sort(Comparator.comparingInt(ChartInstall::installRank));
    if (api.namespaces().withName(namespace).get() == null) {
      api.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .create();
    }
    for (HasMetadata object : objects) {
      if (!object.getKind().equals("CustomResourceDefinition")) {
        managedByHelm(object, release, namespace);
      }
      var resource = object.getMetadata().getNamespace() == null && isNamespaced(object)
          ? api.resource(object).inNamespace(namespace) : api.resource(object);
      resource.create();
    }
    return objects;
  }

  /** Creates every object of a manifest file as {@code kubectl create -f} does, in {@code namespace} if unset. */
  public static List<HasMetadata> apply(KubernetesClient api, String manifest, String namespace) {
    List<HasMetadata> objects = parse(manifest);
    for (HasMetadata object : objects) {
      api.resource(object).inNamespace(namespace).create();
    }
    return objects;
  }

  static List<HasMetadata> parse(String manifest) {
    List<HasMetadata> objects = new ArrayList<>();
    for (String document : manifest.split("(?m)^---\\s*$")) {
      if (document.lines().allMatch(line -> line.isBlank() || line.trim().startsWith("#"))) {
        continue;
      }
      objects.add(Serialization.unmarshal(document, HasMetadata.class));
    }
    return objects;
  }

  private static int installRank(HasMetadata object) {
    int rank = INSTALL_ORDER.indexOf(object.getKind());
    return rank < 0 ? INSTALL_ORDER.size() : rank;
  }

  private static boolean isNamespaced(HasMetadata object) {
    return !List.of("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "PriorityClass", "StorageClass",
        "PersistentVolume", "IngressClass", "APIService").contains(object.getKind());
  }

  private static void managedByHelm(HasMetadata object, String release, String namespace) {
    Map<String, String> labels = new HashMap<>(object.getMetadata().getLabels() == null ? Map.of()
        : object.getMetadata().getLabels());
    labels.put("app.kubernetes.io/managed-by", "Helm");
    object.getMetadata().setLabels(labels);
    Map<String, String> annotations = new HashMap<>(object.getMetadata().getAnnotations() == null ? Map.of()
        : object.getMetadata().getAnnotations());
    annotations.put("meta.helm.sh/release-name", release);
    annotations.put("meta.helm.sh/release-namespace", namespace);
    object.getMetadata().setAnnotations(annotations);
  }
}
