package io.taskmesh.operator.route;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteBuilder;

/** GRPCRoutes in mesh mode as users write them. */
public final class RouteFixtures {
  private RouteFixtures() {}

  /**
   * {@code <parent>-canary}: callers sending {@code x-api-version: v2} go to v2; the rest split v1/v2 by
   * weight, with a header set and one removed.
   */
  public static GRPCRoute canary(String namespace, String parent, int v1, int v2) {
    return new GRPCRouteBuilder()
        .withNewMetadata().withName(parent + "-canary").withNamespace(namespace).endMetadata()
        .withNewSpec()
        .addNewParentRef().withGroup("").withKind("Service").withName(parent).withPort(50051).endParentRef()
        .addNewRule()
        .addNewMatch().addNewHeader().withName("x-api-version").withValue("v2").endHeader().endMatch()
        .addNewBackendRef().withName(parent + "-v2").withPort(50051).endBackendRef()
        .endRule()
        .addNewRule()
        .addNewFilter().withType("RequestHeaderModifier").withNewRequestHeaderModifier()
        .addNewSet().withName("x-canary").withValue("weighted").endSet().addToRemove("x-debug")
        .endRequestHeaderModifier().endFilter()
        .addNewBackendRef().withName(parent + "-v1").withPort(50051).withWeight(v1).endBackendRef()
        .addNewBackendRef().withName(parent + "-v2").withPort(50051).withWeight(v2).endBackendRef()
        .endRule()
        .endSpec()
        .build();
  }
}
