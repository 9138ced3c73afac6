package io.taskmesh.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;

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

  /**
   * @param leaderElection {@code null} for none
   * @param metrics where JOSDK's reconciliation meters go (executions, successes, failures, retries, timing),
   *     per controller and not per resource, so their number does not grow with the TaskServices
   */
  public static Operator create(KubernetesClient client, LeaderElectionConfiguration leaderElection,
      MeterRegistry metrics) {
    return new Operator(overrider -> {
      overrider.withKubernetesClient(client)
          .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(metrics))
          .withSSABasedCreateUpdateMatchForDependentResources(false)
          .withUseSSAToPatchPrimaryResource(false);
      if (leaderElection != null) {
        overrider.withLeaderElectionConfiguration(leaderElection);
      }
    });
  }
}
