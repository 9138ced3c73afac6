package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.taskmesh.e2e.cluster.ClusterAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod's volumes on the host, under its directory: emptyDir as a plain directory, ConfigMap, Secret,
 * projected and downwardAPI volumes through the {@link AtomicWriter} (rewritten in place when their
 * source changes), and the ServiceAccount's token, CA and namespace at the path in-cluster clients read.
 * A projected {@code serviceAccountToken} source for an audience holds a token the API server minted for
 * this pod ({@link ProjectedTokens}); one for the API server itself (no audience, as in the automounted
 * {@code kube-api-access-*} volume) holds the cluster's single API token.
 */
final class PodVolumes {
  static final String SERVICE_ACCOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
  private static final String SERVICE_ACCOUNT_VOLUME = "kube-api-access-taskmesh";
  private static final int DEFAULT_MODE = 0644;
  /** The ConfigMap Kubernetes publishes the cluster's CA in, in every namespace; the kubelet falls back to its own copy. */
  private static final String ROOT_CA_CONFIG_MAP = "kube-root-ca.crt";

  private final KubernetesClient api;
  private final ClusterAccess access;
  private final ProjectedTokens tokens;
  private volatile Pod pod;
  private final Path directory;

  PodVolumes(KubernetesClient api, ClusterAccess access, Pod pod, Path directory) {
    this.api = api;
    this.access = access;
    this.tokens = new ProjectedTokens(api, Clock.systemUTC());
    this.pod = pod;
    this.directory = directory;
  }

  /** The pod's labels and annotations changed: downward API volumes follow them. */
  void podChanged(Pod newer) {
    pod = newer;
    refresh();
  }

  /** Writes every volume; throws {@link MissingSourceException} while a ConfigMap or Secret it needs is missing. */
  void prepare() {
    for (Volume volume : pod.getSpec().getVolumes()) {
      Path path = path(volume.getName());
      try {
        if (volume.getEmptyDir() != null) {
          Files.createDirectories(path);
          // emptyDir is world-writable, so any runAsUser can use it
          Files.setPosixFilePermissions(path, AtomicWriter.permissions(0777));
        } else if (volume.getPersistentVolumeClaim() != null && !Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
          // as a local-path provisioner does: one directory on the node per claim, outliving the pods that mount it
          Path claim = claimDirectory(volume.getPersistentVolumeClaim().getClaimName());
          Files.createDirectories(claim);
          Files.setPosixFilePermissions(claim, AtomicWriter.permissions(0777));
          Files.createDirectories(path.getParent());
          Files.createSymbolicLink(path, claim);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create volume " + volume.getName() + " at " + path, e);
      }
    }
    refresh();
  }

  /** Rewrites the volumes whose content comes from API objects; unchanged ones are left alone. */
  void refresh() {
    String namespace = pod.getMetadata().getNamespace();
    for (Volume volume : pod.getSpec().getVolumes()) {
      Map<String, byte[]> files = new LinkedHashMap<>();
      Integer mode = null;
      if (volume.getConfigMap() != null) {
        var source = volume.getConfigMap();
        addConfigMap(files, namespace, source.getName(), source.getItems(), Boolean.TRUE.equals(source.getOptional()));
        mode = source.getDefaultMode();
      } else if (volume.getSecret() != null) {
        var source = volume.getSecret();
        addSecret(files, namespace, source.getSecretName(), source.getItems(), Boolean.TRUE.equals(source.getOptional()));
        mode = source.getDefaultMode();
      } else if (volume.getProjected() != null) {
        for (VolumeProjection projection : volume.getProjected().getSources()) {
          addProjection(files, namespace, projection);
        }
        mode = volume.getProjected().getDefaultMode();
      } else if (volume.getDownwardAPI() != null) {
        volume.getDownwardAPI().getItems().forEach(item -> files.put(item.getPath(),
            downward(item.getFieldRef() == null ? null : item.getFieldRef().getFieldPath())));
        mode = volume.getDownwardAPI().getDefaultMode();
      } else {
        continue;
      }
      new AtomicWriter(path(volume.getName())).write(files, mode == null ? DEFAULT_MODE : mode);
    }
    if (needsServiceAccountVolume()) {
      Map<String, byte[]> files = new LinkedHashMap<>();
      files.put("token", access.serviceAccountToken().getBytes(StandardCharsets.UTF_8));
      files.put("ca.crt", access.caCertificatePem().getBytes(StandardCharsets.UTF_8));
      files.put("namespace", namespace.getBytes(StandardCharsets.UTF_8));
      new AtomicWriter(path(SERVICE_ACCOUNT_VOLUME)).write(files, DEFAULT_MODE);
    }
  }

  /** The bind mounts of {@code container}: its volumeMounts, plus the ServiceAccount volume unless it opted out. */
  List<ContainerCommand.Mount> mounts(Container container) {
    List<ContainerCommand.Mount> mounts = new ArrayList<>();
    boolean serviceAccountMounted = false;
    for (VolumeMount mount : container.getVolumeMounts()) {
      boolean known = pod.getSpec().getVolumes().stream().anyMatch(v -> v.getName().equals(mount.getName()));
      if (!known) {
        throw new IllegalArgumentException("container " + container.getName() + " mounts volume " + mount.getName()
            + ", which the pod does not declare");
      }
      Path source = path(mount.getName());
      if (mount.getSubPath() != null && !mount.getSubPath().isEmpty()) {
        source = source.resolve(mount.getSubPath());
      }
      mounts.add(new ContainerCommand.Mount(source, mount.getMountPath(), Boolean.TRUE.equals(mount.getReadOnly())));
      serviceAccountMounted |= SERVICE_ACCOUNT_PATH.equals(mount.getMountPath());
    }
    if (!serviceAccountMounted && needsServiceAccountVolume()) {
      mounts.add(new ContainerCommand.Mount(path(SERVICE_ACCOUNT_VOLUME), SERVICE_ACCOUNT_PATH, true));
    }
    return mounts;
  }

  private boolean needsServiceAccountVolume() {
    return !Boolean.FALSE.equals(pod.getSpec().getAutomountServiceAccountToken());
  }

  private Path path(String volumeName) {
    return directory.resolve(volumeName);
  }

  /** {@code <node>/claims/<namespace>_<claim>}: the pod's volumes live in {@code <node>/pods/<pod>/volumes}. */
  private Path claimDirectory(String claimName) {
    Path node = directory.toAbsolutePath().getParent().getParent().getParent();
    return node.resolve("claims").resolve(pod.getMetadata().getNamespace() + "_" + claimName);
  }

  private void addProjection(Map<String, byte[]> files, String namespace, VolumeProjection projection) {
    if (projection.getConfigMap() != null) {
      var source = projection.getConfigMap();
      addConfigMap(files, namespace, source.getName(), source.getItems(), Boolean.TRUE.equals(source.getOptional()));
    } else if (projection.getSecret() != null) {
      var source = projection.getSecret();
      addSecret(files, namespace, source.getName(), source.getItems(), Boolean.TRUE.equals(source.getOptional()));
    } else if (projection.getServiceAccountToken() != null) {
      var source = projection.getServiceAccountToken();
      // no audience: a token for the API server itself, which takes the cluster's one API token from every pod
      String token = source.getAudience() == null || source.getAudience().isEmpty() ? access.serviceAccountToken()
          : tokens.token(pod, source);
      files.put(source.getPath(), token.getBytes(StandardCharsets.UTF_8));
    } else if (projection.getDownwardAPI() != null) {
      projection.getDownwardAPI().getItems().forEach(item -> files.put(item.getPath(),
          downward(item.getFieldRef() == null ? null : item.getFieldRef().getFieldPath())));
    }
  }

  private void addConfigMap(Map<String, byte[]> files, String namespace, String name, List<KeyToPath> items,
      boolean optional) {
    ConfigMap map = api.configMaps().inNamespace(namespace).withName(name).get();
    if (map == null && ROOT_CA_CONFIG_MAP.equals(name)) {
      map = rootCa();
    }
    if (map == null) {
      if (optional) {
        return;
      }
      throw new MissingSourceException("configmap " + namespace + "/" + name + " not found");
    }
    Map<String, byte[]> data = new LinkedHashMap<>();
    if (map.getData() != null) {
      map.getData().forEach((key, value) -> data.put(key, value.getBytes(StandardCharsets.UTF_8)));
    }
    if (map.getBinaryData() != null) {
      map.getBinaryData().forEach((key, value) -> data.put(key, java.util.Base64.getDecoder().decode(value)));
    }
    project(files, data, items, "configmap " + namespace + "/" + name);
  }

  private void addSecret(Map<String, byte[]> files, String namespace, String name, List<KeyToPath> items,
      boolean optional) {
    Secret secret = api.secrets().inNamespace(namespace).withName(name).get();
    if (secret == null) {
      if (optional) {
        return;
      }
      throw new MissingSourceException("secret " + namespace + "/" + name + " not found");
    }
    project(files, ContainerEnvironment.secretData(secret), items, "secret " + namespace + "/" + name);
  }

  private static void project(Map<String, byte[]> files, Map<String, byte[]> data, List<KeyToPath> items,
      String source) {
    if (items == null || items.isEmpty()) {
      files.putAll(data);
      return;
    }
    for (KeyToPath item : items) {
      byte[] value = data.get(item.getKey());
      if (value == null) {
        throw new MissingSourceException("key " + item.getKey() + " of " + source + " not found");
      }
      files.put(item.getPath(), value);
    }
  }

  /** The cluster's CA, which Kubernetes publishes in every namespace as this ConfigMap. */
  private ConfigMap rootCa() {
    ConfigMap map = new ConfigMap();
    map.setData(Map.of("ca.crt", access.caCertificatePem()));
    return map;
  }

  private byte[] downward(String fieldPath) {
    if (fieldPath == null) {
      throw new IllegalArgumentException("a downwardAPI item of pod " + pod.getMetadata().getName() + " has no fieldRef");
    }
    if (fieldPath.equals("metadata.labels") || fieldPath.equals("metadata.annotations")) {
      Map<String, String> values = fieldPath.equals("metadata.labels") ? pod.getMetadata().getLabels()
          : pod.getMetadata().getAnnotations();
      StringBuilder out = new StringBuilder();
      (values == null ? Map.<String, String>of() : values).forEach((k, v) -> out.append(k).append("=\"").append(v).append("\"\n"));
      return out.toString().getBytes(StandardCharsets.UTF_8);
    }
    return ContainerEnvironment.field(pod, fieldPath, "", "", "").getBytes(StandardCharsets.UTF_8);
  }

  /** A ConfigMap, Secret or key a pod needs is not there (yet): the kubelet retries, as Kubernetes does. */
  static final class MissingSourceException extends RuntimeException {
    MissingSourceException(String message) {
      super(message);
    }
  }
}
