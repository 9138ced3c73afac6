package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * What the API server adds to a new pod before the webhooks see it: the defaults of the pod spec the product
 * reads (service account, restart policy, grace period, Pending phase) and, as the ServiceAccount admission
 * plug-in does, the projected {@code kube-api-access-*} volume (token, the cluster CA from ConfigMap
 * {@code kube-root-ca.crt}, the namespace) mounted read-only at
 * {@code /var/run/secrets/kubernetes.io/serviceaccount} in every container that has not mounted that path.
 */
final class PodDefaults implements Admission {
  static final String SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
  private static final String SUFFIX_LETTERS = "bcdfghjklmnpqrstvwxz2456789";
  private final SecureRandom random = new SecureRandom();

  @Override
  public ObjectNode admit(ApiRequest request, ObjectNode pod, Optional<ObjectNode> old, Warnings warnings) {
    if (!request.method().equals("POST")) {
      return pod;
    }
    ObjectNode spec = pod.withObjectProperty("spec");
    String account = spec.path("serviceAccountName").asText(spec.path("serviceAccount").asText("default"));
    spec.put("serviceAccountName", account).put("serviceAccount", account);
    spec.put("restartPolicy", spec.path("restartPolicy").asText("Always"));
    spec.put("terminationGracePeriodSeconds", spec.path("terminationGracePeriodSeconds").asLong(30));
    spec.put("dnsPolicy", spec.path("dnsPolicy").asText("ClusterFirst"));
    pod.withObjectProperty("status").put("phase", "Pending");
    if (spec.path("automountServiceAccountToken").asBoolean(true)) {
      mountServiceAccount(spec);
    }
    return pod;
  }

  private void mountServiceAccount(ObjectNode spec) {
    String volume = "kube-api-access-" + suffix();
    ObjectNode projected = spec.withArrayProperty("volumes").addObject().put("name", volume)
        .putObject("projected").put("defaultMode", 420);
    ArrayNode sources = projected.putArray("sources");
    sources.addObject().putObject("serviceAccountToken").put("expirationSeconds", 3607).put("path", "token");
    sources.addObject().putObject("configMap").put("name", "kube-root-ca.crt").putArray("items").addObject()
        .put("key", "ca.crt").put("path", "ca.crt");
    sources.addObject().putObject("downwardAPI").putArray("items").addObject().put("path", "namespace")
        .putObject("fieldRef").put("apiVersion", "v1").put("fieldPath", "metadata.namespace");
    for (String containers : new String[] {"initContainers", "containers"}) {
      for (JsonNode container : spec.path(containers)) {
        boolean mounted = false;
        for (JsonNode mount : container.path("volumeMounts")) {
          mounted |= mount.path("mountPath").asText().equals(SERVICE_ACCOUNT_DIR);
        }
        if (!mounted) {
          ((ObjectNode) container).withArrayProperty("volumeMounts").addObject().put("name", volume)
              .put("mountPath", SERVICE_ACCOUNT_DIR).put("readOnly", true);
        }
      }
    }
  }

  private String suffix() {
    StringBuilder suffix = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      suffix.append(SUFFIX_LETTERS.charAt(random.nextInt(SUFFIX_LETTERS.length())));
    }
    return suffix.toString();
  }
}
