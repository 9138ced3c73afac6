package io.taskmesh.operator.lifecycle;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.taskmesh.operator.Operators;
import java.util.ArrayList;
import java.util.List;

/**
 * Deletes what the operator made at run time in its own namespace and Helm does not know of: the
 * webhook's serving certificate Secret and the leader-election Lease. The chart runs it as a pre-delete
 * hook ({@code operator uninstall}), so that {@code helm uninstall} leaves nothing behind.
 */
public final class ReleaseCleanup {
  private ReleaseCleanup() {}

  /**
   * @param certSecret the managed certificate's Secret, or null when the certificate is the user's own
   * @param leaderElection whether replicas elected a leader (else there is no Lease, nor the right to delete one)
   * @return what was deleted
   */
  public static List<String> run(KubernetesClient client, String namespace, String certSecret,
      boolean leaderElection) {
    List<String> deleted = new ArrayList<>();
    if (certSecret != null && !client.secrets().inNamespace(namespace).withName(certSecret).delete().isEmpty()) {
      deleted.add("secret/" + certSecret);
    }
    if (leaderElection && !client.leases().inNamespace(namespace).withName(Operators.LEASE_NAME).delete().isEmpty()) {
      deleted.add("lease/" + Operators.LEASE_NAME);
    }
    return deleted;
  }
}
