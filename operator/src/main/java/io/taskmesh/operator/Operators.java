package io.taskmesh.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;

/**
 * The one way an Operator is made, in clusters and in tests alike: create/update of dependents and status
 * patches without server-side apply (the fabric8 mock API server cannot do SSA, and running the same
 * path everywhere means the tested path is the one that runs).
 */
public final class Operators {
  private Operators() {}

  /** @param leaderElection {@code null} for none */
  public static Operator create(KubernetesClient client, LeaderElectionConfiguration leaderElection) {
    return new Operator(overrider -> {
      overrider.withKubernetesClient(client)
          .withSSABasedCreateUpdateMatchForDependentResources(false)
          .withUseSSAToPatchPrimaryResource(false);
      if (leaderElection != null) {
        overrider.withLeaderElectionConfiguration(leaderElection);
      }
    });
  }
}
