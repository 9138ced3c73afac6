package io.taskmesh.operator.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.GroupVersionKindBuilder;
import io.fabric8.kubernetes.api.model.GroupVersionResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

/** Pods and the AdmissionReviews the API server would send for them. */
final class AdmissionReviews {
  private AdmissionReviews() {}

  /** A pod as a ReplicaSet would create it: generated name, one app container with one env var. */
  static Pod pod(Map<String, String> annotations) {
    return new PodBuilder()
        .withNewMetadata().withGenerateName("orders-7d9f-").withAnnotations(annotations).endMetadata()
        .withNewSpec()
          .addNewContainer().withName("app").withImage("example/orders:1")
            .addNewEnv().withName("LOG_LEVEL").withValue("info").endEnv()
          .endContainer()
        .endSpec()
        .build();
  }

  static AdmissionReview creating(String namespace, Pod pod) {
    return new AdmissionReviewBuilder().withApiVersion("admission.k8s.io/v1").withKind("AdmissionReview")
        .withNewRequest()
          .withUid(UUID.randomUUID().toString())
          .withKind(new GroupVersionKindBuilder().withGroup("").withVersion("v1").withKind("Pod").build())
          .withResource(new GroupVersionResourceBuilder().withGroup("").withVersion("v1").withResource("pods").build())
          .withNamespace(namespace)
          .withOperation("CREATE")
          .withObject(pod)
        .endRequest()
        .build();
  }

  /** The pod as the API server stores it after applying the response's JSONPatch. */
  static Pod patched(Pod pod, AdmissionResponse response) {
    if (!"JSONPatch".equals(response.getPatchType())) {
      throw new AssertionError("patch type " + response.getPatchType());
    }
    JsonNode patch = Serialization.unmarshal(
        new String(Base64.getDecoder().decode(response.getPatch()), StandardCharsets.UTF_8), JsonNode.class);
    JsonNode result = JsonPatch.apply(patch, Serialization.jsonMapper().valueToTree(pod));
    return Serialization.jsonMapper().convertValue(result, Pod.class);
  }
}
