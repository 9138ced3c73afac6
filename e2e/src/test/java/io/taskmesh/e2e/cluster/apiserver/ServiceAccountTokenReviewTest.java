package io.taskmesh.e2e.cluster.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.taskmesh.operator.identity.KubernetesTokenReviewer;
import io.taskmesh.operator.identity.TokenReviewer;
import java.net.InetAddress;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The local API server mints ServiceAccount tokens (TokenRequest, as the kubelet asks for projected tokens)
 * and reviews them (TokenReview, as the mesh issuer asks), over HTTPS on 127.0.0.1 with a fabric8 client:
 * a token tells who it was minted for and for which audience, and nothing more. Runs without root.
 */
class ServiceAccountTokenReviewTest {
  private static final String NAMESPACE = "orders";
  private static final String ACCOUNT = "order-service";

  private static ApiServer server;
  private static KubernetesClient api;
  private static Pod pod;

  @BeforeAll
  static void start() {
    server = ApiServer.start(List.of(InetAddress.getLoopbackAddress()), 0, "10.213.251.0/24");
    api = server.client();
    api.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .create();
    for (String account : List.of(ACCOUNT, "billing")) {
      api.serviceAccounts().inNamespace(NAMESPACE).resource(new ServiceAccountBuilder().withNewMetadata()
          .withName(account).endMetadata().build()).create();
    }
    pod = api.pods().inNamespace(NAMESPACE).resource(new PodBuilder().withNewMetadata().withName("order-service-1")
        .endMetadata().withNewSpec().withServiceAccountName(ACCOUNT).addNewContainer().withName("app")
        .withImage("taskmesh/task-service").endContainer().endSpec().build()).create();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static TokenRequest requestToken(String account, String audience, Pod boundTo) {
    return api.serviceAccounts().inNamespace(NAMESPACE).withName(account).tokenRequest(new TokenRequestBuilder()
        .withNewSpec().withAudiences(audience).withExpirationSeconds(600L)
        .withNewBoundObjectRef().withApiVersion("v1").withKind("Pod").withName(boundTo.getMetadata().getName())
        .withUid(boundTo.getMetadata().getUid()).endBoundObjectRef().endSpec().build());
  }

  private static TokenReview review(String token, String... audiences) {
    return api.authentication().v1().tokenReviews().create(new TokenReviewBuilder().withNewSpec().withToken(token)
        .withAudiences(audiences).endSpec().build());
  }

  @Test
  void aTokenMintedForAServiceAccountReviewsAsThatServiceAccountForItsAudience() throws Exception {
    TokenRequest minted = requestToken(ACCOUNT, "taskmesh", pod);
    assertThat(minted.getStatus().getToken()).isNotBlank();
    assertThat(minted.getStatus().getExpirationTimestamp()).isNotBlank();
    // a JWT whose claims name its holder, as the sidecar reads its own ServiceAccount from it
    String[] jwt = minted.getStatus().getToken().split("\\.");
    assertThat(jwt).hasSize(3);
    JsonNode claims = new ObjectMapper().readTree(Base64.getUrlDecoder().decode(jwt[1]));
    assertThat(claims.path("sub").asText()).isEqualTo("system:serviceaccount:orders:order-service");
    assertThat(claims.path("aud").get(0).asText()).isEqualTo("taskmesh");
    assertThat(claims.at("/kubernetes.io/pod/name").asText()).isEqualTo("order-service-1");

    TokenReview review = review(minted.getStatus().getToken(), "taskmesh", "another-mesh");
    assertThat(review.getStatus().getAuthenticated()).isTrue();
    assertThat(review.getStatus().getUser().getUsername()).isEqualTo("system:serviceaccount:orders:order-service");
    assertThat(review.getStatus().getUser().getGroups()).contains("system:serviceaccounts:orders");
    assertThat(review.getStatus().getUser().getExtra().get("authentication.kubernetes.io/pod-name"))
        .containsExactly("order-service-1");
    assertThat(review.getStatus().getAudiences()).containsExactly("taskmesh");

    assertThat(new KubernetesTokenReviewer(api).review(minted.getStatus().getToken()))
        .isEqualTo(new TokenReviewer.ServiceAccount(NAMESPACE, ACCOUNT));
    TokenRequest billing = requestToken("billing", "taskmesh", pod);
    assertThat(new KubernetesTokenReviewer(api).review(billing.getStatus().getToken()))
        .isEqualTo(new TokenReviewer.ServiceAccount(NAMESPACE, "billing"));
  }

  @Test
  void aTokenForAnotherAudienceIsNotAuthenticated() {
    String token = requestToken(ACCOUNT, "another-mesh", pod).getStatus().getToken();

    TokenReview review = review(token, "taskmesh");
    assertThat(review.getStatus().getAuthenticated()).isFalse();
    assertThat(review.getStatus().getError()).contains("audiences");
    assertThat(review.getStatus().getAudiences()).isNullOrEmpty();
    assertThatThrownBy(() -> new KubernetesTokenReviewer(api).review(token))
        .isInstanceOf(TokenReviewer.InvalidToken.class).hasMessageContaining("did not authenticate");
    // without audiences, a review asks for the API server's own: a taskmesh token is not one
    assertThat(review(requestToken(ACCOUNT, "taskmesh", pod).getStatus().getToken()).getStatus().getAuthenticated())
        .isFalse();
  }

  @Test
  void anUnknownTokenOrTheClusterApiTokenIsNotAuthenticated() {
    for (String token : List.of("not-a-token", ApiServer.TOKEN)) {
      TokenReview review = review(token, "taskmesh");
      assertThat(review.getStatus().getAuthenticated()).as(token).isFalse();
      assertThat(review.getStatus().getError()).as(token).contains("unknown or has expired");
    }
  }

  @Test
  void aTokenIsMintedOnlyForAnExistingServiceAccountAndAtLeastTenMinutes() {
    assertThatThrownBy(() -> requestToken("nobody", "taskmesh", pod)).isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(404));
    assertThatThrownBy(() -> api.serviceAccounts().inNamespace(NAMESPACE).withName(ACCOUNT).tokenRequest(
        new TokenRequestBuilder().withNewSpec().withAudiences("taskmesh").withExpirationSeconds(60L).endSpec().build()))
        .isInstanceOf(KubernetesClientException.class).hasMessageContaining("less than 10 minutes");
  }

  @Test
  void aTokenBoundToAPodIsRefusedOnceThePodIsGone() {
    Pod shortLived = api.pods().inNamespace(NAMESPACE).resource(new PodBuilder().withNewMetadata()
        .withName("short-lived").endMetadata().withNewSpec().withServiceAccountName(ACCOUNT).addNewContainer()
        .withName("app").withImage("taskmesh/task-service").endContainer().withTerminationGracePeriodSeconds(0L)
        .endSpec().build()).create();
    String token = requestToken(ACCOUNT, "taskmesh", shortLived).getStatus().getToken();
    assertThat(review(token, "taskmesh").getStatus().getAuthenticated()).isTrue();

    api.pods().inNamespace(NAMESPACE).withName("short-lived").withGracePeriod(0).delete();

    TokenReview review = review(token, "taskmesh");
    assertThat(review.getStatus().getAuthenticated()).isFalse();
    assertThat(review.getStatus().getError()).contains("short-lived");
  }
}
