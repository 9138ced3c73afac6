package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mutating admission as the API server runs it for pod creation: every webhook of every
 * MutatingWebhookConfiguration whose rules, namespaceSelector and objectSelector match is called in turn
 * (configurations by name, webhooks in order) with an AdmissionReview over HTTPS at its Service's ClusterIP,
 * and its JSONPatch applied to the pod the next webhook sees. A denial refuses the pod; a webhook that cannot
 * be reached, times out or answers nonsense refuses it under failurePolicy Fail (the default) and is skipped
 * under Ignore.
 */
final class MutatingWebhooks implements Admission {
  private static final Logger log = LoggerFactory.getLogger(MutatingWebhooks.class);
  private static final String CONFIGURATIONS = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

  private final ObjectStore store;

  MutatingWebhooks(ObjectStore store) {
    this.store = store;
  }

  @Override
  public ObjectNode admit(ApiRequest request, ObjectNode pod, Optional<ObjectNode> old, Warnings warnings) {
    if (!request.method().equals("POST")) {
      return pod;
    }
    JsonNode namespaceLabels = store.get("/api/v1/namespaces/" + request.namespace())
        .map(namespace -> namespace.at("/metadata/labels")).orElse(ObjectStore.JSON.createObjectNode());
    ObjectNode current = pod;
    var configurations = store.list(CONFIGURATIONS).stream()
        .sorted((a, b) -> a.at("/metadata/name").asText().compareTo(b.at("/metadata/name").asText())).toList();
    for (ObjectNode configuration : configurations) {
      for (JsonNode webhook : configuration.path("webhooks")) {
        if (appliesToPodCreation(webhook) && LabelSelectors.matches(webhook.get("namespaceSelector"), namespaceLabels)
            && LabelSelectors.matches(webhook.get("objectSelector"), current.at("/metadata/labels"))) {
          current = call(webhook, request, current, warnings);
        }
      }
    }
    return current;
  }

  private static boolean appliesToPodCreation(JsonNode webhook) {
    for (JsonNode rule : webhook.path("rules")) {
      if (contains(rule.path("operations"), "CREATE") && contains(rule.path("apiGroups"), "")
          && contains(rule.path("apiVersions"), "v1") && contains(rule.path("resources"), "pods")
          && !rule.path("scope").asText("*").equals("Cluster")) {
        return true;
      }
    }
    return false;
  }

  private static boolean contains(JsonNode values, String wanted) {
    for (JsonNode value : values) {
      if (value.asText().equals(wanted) || value.asText().equals("*")) {
        return true;
      }
    }
    return false;
  }

  private ObjectNode call(JsonNode webhook, ApiRequest request, ObjectNode pod, Warnings warnings) {
    String name = webhook.path("name").asText();
    boolean failOpen = webhook.path("failurePolicy").asText("Fail").equals("Ignore");
    Duration timeout = Duration.ofSeconds(webhook.path("timeoutSeconds").asLong(10));
    String uid = UUID.randomUUID().toString();
    JsonNode response;
    String url = "";
    try {
      JsonNode clientConfig = webhook.path("clientConfig");
      JsonNode service = clientConfig.path("service");
      if (service.isMissingNode()) {
        throw new IOException("only clientConfig.service is supported by this cluster");
      }
      String serviceName = service.path("name").asText();
      String serviceNamespace = service.path("namespace").asText();
      int port = service.path("port").asInt(443);
      String host = serviceName + "." + serviceNamespace + ".svc";
      String path = service.path("path").asText("/") + "?timeout=" + timeout.toSeconds() + "s";
      url = "https://" + host + ":" + port + path;
      String clusterIp = store.get("/api/v1/namespaces/" + serviceNamespace + "/services/" + serviceName)
          .map(svc -> svc.at("/spec/clusterIP").asText())
          .orElseThrow(() -> new IOException("service \"" + serviceName + "\" not found"));
      byte[] caBundle = Base64.getDecoder().decode(clientConfig.path("caBundle").asText(""));
      String answer = WebhookClient.post(new InetSocketAddress(clusterIp, port), host, path, caBundle,
          review(uid, request, pod).toString(), timeout);
      response = ObjectStore.JSON.readTree(answer).path("response");
      if (!response.path("uid").asText().equals(uid)) {
        throw new IOException("expected response.uid=\"" + uid + "\", got \"" + response.path("uid").asText() + "\"");
      }
    } catch (IOException | RuntimeException e) {
      String message = "failed calling webhook \"" + name + "\": failed to call webhook: Post \"" + url + "\": "
          + e.getMessage();
      if (failOpen) {
        log.warn("event=webhook_ignored webhook={} error=\"{}\"", name, e.getMessage());
        return pod;
      }
      throw new ApiException(500, "InternalError", "Internal error occurred: " + message);
    }
    response.path("warnings").forEach(warning -> warnings.add(warning.asText()));
    if (!response.path("allowed").asBoolean(false)) {
      JsonNode status = response.path("status");
      throw new ApiException(status.path("code").asInt(400), status.path("reason").asText("BadRequest"),
          "admission webhook \"" + name + "\" denied the request: " + status.path("message").asText(""));
    }
    if (!response.hasNonNull("patch")) {
      return pod;
    }
    if (!response.path("patchType").asText().equals("JSONPatch")) {
      throw new ApiException(500, "InternalError", "webhook \"" + name + "\" returned patchType "
          + response.path("patchType").asText() + ", only JSONPatch is allowed");
    }
    try {
      JsonNode patch = ObjectStore.JSON.readTree(new String(Base64.getDecoder().decode(response.path("patch").asText()),
          StandardCharsets.UTF_8));
      return (ObjectNode) JsonPatch.apply(patch, pod);
    } catch (IOException | RuntimeException e) {
      throw new ApiException(500, "InternalError", "Internal error occurred: webhook \"" + name
          + "\" returned a patch that cannot be applied: " + e.getMessage());
    }
  }

  private static ObjectNode review(String uid, ApiRequest request, ObjectNode pod) {
    ObjectNode review = ObjectStore.JSON.createObjectNode().put("apiVersion", "admission.k8s.io/v1")
        .put("kind", "AdmissionReview");
    ObjectNode body = review.putObject("request").put("uid", uid);
    body.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
    body.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    body.putObject("requestKind").put("group", "").put("version", "v1").put("kind", "Pod");
    body.putObject("requestResource").put("group", "").put("version", "v1").put("resource", "pods");
    body.put("name", pod.at("/metadata/name").asText("")).put("namespace", request.namespace())
        .put("operation", "CREATE").put("dryRun", false);
    body.putObject("userInfo").put("username", "system:admin");
    body.set("object", pod);
    body.putNull("oldObject");
    body.putObject("options").put("apiVersion", "meta.k8s.io/v1").put("kind", "CreateOptions");
    return review;
  }
}
