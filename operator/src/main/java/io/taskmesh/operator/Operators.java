package io.taskmesh.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;

/**
 * The one way an Operator is made, in clusters and in tests alike: create/update of dependents and status
 * patches without server-side apply (the fabric8 mock API server cannot do SSA, and running the same
 * path everywhere means the tested path is the one that runs).
 */
public final class Operators {
  /** The Lease in the operator's namespace that elects the one replica that reconciles. */
  public static final String LEASE_NAME = "taskmesh-operator";

  private Operators() {}

  /**
   * Leader election as replicas run it: one Lease, each replica under its pod name. JOSDK's defaults stay
   * (15 s lease, and a replica that loses the lease exits so that it restarts as a clean follower).
   */
  public static LeaderElectionConfigurationBuilder leaderElection(String namespace, String identity) {
    return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(LEASE_NAME)
        .withLeaseNamespace(namespace)
        .withIdentity(identity);
  }

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
