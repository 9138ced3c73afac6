package io.taskmesh.operator;

import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;

/**
 * JOSDK asks the API server (SelfSubjectRulesReview) whether it may use Leases before it starts leader
 * election. The mock in CRUD mode refuses that create (422: no metadata), so tests answer as an API server
 * would for the chart's Role: the lease verbs in {@link Permissions}.
 */
final class LeaseAccess {
  private LeaseAccess() {}

  static void answerAccessReviews(KubernetesMockServer server) {
    String[] verbs = Permissions.ALL.stream().filter(p -> p.resource().equals("leases"))
        .map(Permissions.Permission::verb).toArray(String[]::new);
    server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(201, new SelfSubjectRulesReviewBuilder()
            .withNewStatus().withIncomplete(false)
              .addToResourceRules(new ResourceRuleBuilder().withApiGroups("coordination.k8s.io")
                  .withResources("leases").withVerbs(verbs).build())
            .endStatus().build())
        .always();
  }
}
