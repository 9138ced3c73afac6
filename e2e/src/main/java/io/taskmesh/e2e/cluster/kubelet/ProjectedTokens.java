package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccountTokenProjection;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tokens of a pod's projected {@code serviceAccountToken} sources, as the kubelet gets them: a TokenRequest
 * to the API server for the pod's ServiceAccount, the source's audience and lifetime, bound to the pod; kept
 * until 80% of its lifetime has passed, then requested anew.
 */
final class ProjectedTokens {
  private static final long DEFAULT_EXPIRATION_SECONDS = 3600;
  private static final double REFRESH_AT = 0.8;

  private record Held(String token, Instant refreshAfter) {
  }

  private final KubernetesClient api;
  private final Clock clock;
  /** Per projected source (audience, lifetime). */
  private final Map<List<Object>, Held> held = new ConcurrentHashMap<>();

  ProjectedTokens(KubernetesClient api, Clock clock) {
    this.api = api;
    this.clock = clock;
  }

  /** The token for {@code source}, which names an audience; throws {@link PodVolumes.MissingSourceException} while the ServiceAccount is missing. */
  String token(Pod pod, ServiceAccountTokenProjection source) {
    long expirationSeconds = source.getExpirationSeconds() == null ? DEFAULT_EXPIRATION_SECONDS : source.getExpirationSeconds();
    List<String> audiences = List.of(source.getAudience());
    List<Object> key = List.of(audiences, expirationSeconds);
    Held current = held.get(key);
    if (current == null || !clock.instant().isBefore(current.refreshAfter())) {
      current = request(pod, audiences, expirationSeconds);
      held.put(key, current);
    }
    return current.token();
  }

  private Held request(Pod pod, List<String> audiences, long expirationSeconds) {
    String namespace = pod.getMetadata().getNamespace();
    String account = pod.getSpec().getServiceAccountName() == null ? "default" : pod.getSpec().getServiceAccountName();
    TokenRequest request = new TokenRequestBuilder().withNewSpec().withAudiences(audiences)
        .withExpirationSeconds(expirationSeconds)
        .withNewBoundObjectRef().withApiVersion("v1").withKind("Pod").withName(pod.getMetadata().getName())
        .withUid(pod.getMetadata().getUid()).endBoundObjectRef()
        .endSpec().build();
    Instant asked = clock.instant();
    TokenRequest answer;
    try {
      answer = api.serviceAccounts().inNamespace(namespace).withName(account).tokenRequest(request);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        throw new PodVolumes.MissingSourceException("serviceaccount " + namespace + "/" + account + " not found");
      }
      throw e;
    }
    Instant expires = Instant.parse(answer.getStatus().getExpirationTimestamp());
    Duration lifetime = Duration.between(asked, expires);
    return new Held(answer.getStatus().getToken(), asked.plus(Duration.ofMillis((long) (lifetime.toMillis() * REFRESH_AT))));
  }
}
