package io.taskmesh.operator.identity;

/**
 * Who a workload's token proves it is. In a cluster the API server answers ({@link KubernetesTokenReviewer});
 * the issuer signs nothing a reviewer has not vouched for.
 */
public interface TokenReviewer {
  /** The audience a token must be minted for: a token for the API server or another mesh proves nothing here. */
  String AUDIENCE = "taskmesh";

  /** The ServiceAccount a token was issued to. */
  record ServiceAccount(String namespace, String name) {}

  /** The token proves no ServiceAccount to us; the message says why. */
  final class InvalidToken extends Exception {
    public InvalidToken(String message) {
      super(message);
    }
  }

  /**
   * @throws InvalidToken when the token is not authenticated for {@link #AUDIENCE}, or is not a ServiceAccount's
   * @throws RuntimeException when the reviewer cannot be asked now (the issuer answers UNAVAILABLE)
   */
  ServiceAccount review(String token) throws InvalidToken;
}
