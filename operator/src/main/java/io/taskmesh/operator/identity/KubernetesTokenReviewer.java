package io.taskmesh.operator.identity;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Asks the API server who a ServiceAccount token belongs to (authentication.k8s.io/v1 TokenReview), for
 * the audience {@code taskmesh} only: a token minted for another audience (the API server's own, another
 * mesh's) proves nothing here.
 */
public final class KubernetesTokenReviewer implements TokenReviewer {
  private static final Pattern SERVICE_ACCOUNT = Pattern.compile("system:serviceaccount:([^:]+):([^:]+)");

  private final KubernetesClient client;

  public KubernetesTokenReviewer(KubernetesClient client) {
    this.client = client;
  }

  /** @throws io.fabric8.kubernetes.client.KubernetesClientException when the API server cannot be asked */
  @Override
  public ServiceAccount review(String token) throws InvalidToken {
    if (token == null || token.isBlank()) {
      throw new InvalidToken("no ServiceAccount token was sent");
    }
    TokenReview review = new TokenReviewBuilder()
        .withNewSpec().withToken(token).withAudiences(AUDIENCE).endSpec()
        .build();
    TokenReviewStatus status = client.authentication().v1().tokenReviews().create(review).getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      String error = status == null || status.getError() == null ? "" : ": " + status.getError();
      throw new InvalidToken("the API server did not authenticate the token" + error);
    }
    List<String> audiences = status.getAudiences() == null ? List.of() : status.getAudiences();
    if (!audiences.contains(AUDIENCE)) {
      throw new InvalidToken("the token is not for audience '" + AUDIENCE + "' (it is for " + audiences + ")");
    }
    String username = status.getUser() == null ? null : status.getUser().getUsername();
    Matcher matcher = SERVICE_ACCOUNT.matcher(username == null ? "" : username);
    if (!matcher.matches()) {
      throw new InvalidToken("the token belongs to '" + username + "', not to a ServiceAccount");
    }
    return new ServiceAccount(matcher.group(1), matcher.group(2));
  }
}
