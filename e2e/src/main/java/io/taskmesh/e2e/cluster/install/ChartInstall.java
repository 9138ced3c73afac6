package io.taskmesh.e2e.cluster.install;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

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

  /**
   * A release as rendered, before anything reaches the cluster: the chart's CRDs, then its templates' objects in
   * Helm's install order, labelled and annotated as managed by Helm.
   */
  public record Rendered(String release, String namespace, List<HasMetadata> objects) {
    public Rendered {
      objects = List.copyOf(objects);
    }
  }

  /** Renders and creates; returns the objects in the order they were created. */
  public static List<HasMetadata> install(KubernetesClient api, Path chart, String release, String namespace,
      Map<String, Object> values) {
    return install(api, render(chart, release, namespace, values));
  }

  /** {@code helm template}: needs no cluster, so it can run while the cluster starts. */
  public static Rendered render(Path chart, String release, String namespace, Map<String, Object> values) {
    var template = new Helm(chart).template().withName(release).withNamespace(namespace).withKubeVersion(KUBE_VERSION);
    values.forEach(template::set);
    // as `helm install` does: the chart's crds/ directory first, as it is (not templated, not managed), then the templates
    List<HasMetadata> objects = new ArrayList<>(crds(chart));
    String manifest;
    try {
      manifest = template.call();
    } finally {
      JvmSignals.reclaim();
    }
    List<HasMetadata> rendered = new ArrayList<>(parse(manifest));
    rendered.sort(Comparator.comparingInt(ChartInstall::installRank));
    for (HasMetadata object : rendered) {
      managedByHelm(object, release, namespace);
    }
    objects.addAll(rendered);
    return new Rendered(release, namespace, objects);
  }

  /** Creates a rendered release's objects (and its namespace); returns them in the order they were created. */
  public static List<HasMetadata> install(KubernetesClient api, Rendered release) {
    String namespace = release.namespace();
    if (api.namespaces().withName(namespace).get() == null) {
      api.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .create();
    }
    for (HasMetadata object : release.objects()) {
      create(api, object, isNamespaced(object) ? namespace : null);
    }
    return release.objects();
  }

  /** Creates every object of a manifest file as {@code kubectl create -f} does, in {@code namespace} if unset. */
  public static List<HasMetadata> apply(KubernetesClient api, String manifest, String namespace) {
    return create(api, parse(manifest), namespace);
  }

  /** Creates {@code objects} in order, each in its own namespace, else in {@code namespace} (null: cluster-scoped). */
  public static List<HasMetadata> create(KubernetesClient api, List<HasMetadata> objects, String namespace) {
    for (HasMetadata object : objects) {
      create(api, object, namespace);
    }
    return objects;
  }

  /** Creates {@code object} in its own namespace, else in {@code namespace} (null: cluster-scoped). */
  private static void create(KubernetesClient api, HasMetadata object, String namespace) {
    String target = object.getMetadata().getNamespace() != null ? object.getMetadata().getNamespace() : namespace;
    if (object instanceof GenericKubernetesResource custom) {
      var resources = api.genericKubernetesResources(custom.getApiVersion(), custom.getKind());
      (target == null ? resources.resource(custom) : resources.inNamespace(target).resource(custom)).create();
    } else {
      (target == null ? api.resource(object) : api.resource(object).inNamespace(target)).create();
    }
  }

  private static List<HasMetadata> crds(Path chart) {
    Path directory = chart.resolve("crds");
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(directory)) {
      List<HasMetadata> crds = new ArrayList<>();
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().toList()) {
        crds.addAll(parse(Files.readString(file)));
      }
      return crds;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the chart's CRDs in " + directory, e);
    }
  }

  /** The objects of a multi-document YAML manifest. */
  public static List<HasMetadata> parse(String manifest) {
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
