package io.taskmesh.operator.identity;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;

/**
 * The mock API server in CRUD mode does not implement TokenReview; this answers it as kube-apiserver does
 * for known tokens: authenticated with the ServiceAccount's username and the audiences the token was
 * minted for that the review asked about. Any other token is not authenticated.
 */
public final class TokenReviews {
  /** A token the API server would accept: whose it is and the audiences it was minted for. */
  public record Token(String namespace, String serviceAccount, List<String> audiences) {}

  private TokenReviews() {}

  public static void answer(KubernetesMockServer server, Map<String, Token> tokens) {
    server.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReply(201, request -> {
          TokenReview review = Serialization.unmarshal(request.getUtf8Body(), TokenReview.class);
          Token token = tokens.get(review.getSpec().getToken());
          List<String> asked = review.getSpec().getAudiences();
          if (token == null || token.audiences().stream().noneMatch(asked::contains)) {
            return new TokenReviewBuilder(review).withNewStatus().withAuthenticated(false)
                .withError(token == null ? "invalid bearer token" : "token audiences " + token.audiences()
                    + " is invalid for the target audiences " + asked)
                .endStatus().build();
          }
          return new TokenReviewBuilder(review).withNewStatus().withAuthenticated(true)
              .withAudiences(token.audiences().stream().filter(asked::contains).toList())
              .withNewUser().withUsername("system:serviceaccount:" + token.namespace() + ":" + token.serviceAccount())
                .withGroups("system:serviceaccounts", "system:serviceaccounts:" + token.namespace()).endUser()
              .endStatus().build();
        })
        .always();
  }
}
