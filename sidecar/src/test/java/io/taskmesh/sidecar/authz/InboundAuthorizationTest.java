package io.taskmesh.sidecar.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.discovery.v1.AuthorizationRule;
import io.taskmesh.discovery.v1.CallerMatch;
import io.taskmesh.discovery.v1.MethodMatch;
import io.taskmesh.identity.SpiffeId;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class InboundAuthorizationTest {
  private static final String CREATE = "/taskservice.TaskService/CreateTask";
  private static final String LIST = "/taskservice.TaskService/ListTasks";
  private static final SpiffeId FRONTEND = new SpiffeId("cluster.local", "web", "frontend");
  private static final SpiffeId BATCH = new SpiffeId("cluster.local", "web", "batch");
  private static final SpiffeId OTHER = new SpiffeId("cluster.local", "ops", "frontend");

  private final InboundAuthorization table = InboundAuthorization.of(
      io.taskmesh.discovery.v1.InboundAuthorization.newBuilder().setHash("x").setDefaultDeny(true)
          .addDefaultDenyPolicies("shop/tasks")
          .addRules(AuthorizationRule.newBuilder().setPolicy("shop/tasks")
              .addFrom(CallerMatch.newBuilder().setIdentity(FRONTEND.uri()))
              .addTo(MethodMatch.newBuilder().setGrpcService("taskservice.TaskService")))
          .addRules(AuthorizationRule.newBuilder().setPolicy("shop/tasks")
              .addFrom(CallerMatch.newBuilder().setNamespace("web").setServiceAccount("batch"))
              .addTo(MethodMatch.newBuilder().setGrpcService("taskservice.TaskService").addMethods("ListTasks")))
          .addRules(AuthorizationRule.newBuilder().setPolicy("shop/ops-read")
              .addFrom(CallerMatch.newBuilder().setNamespace("ops"))
              .addTo(MethodMatch.newBuilder().setGrpcService("taskservice.TaskService").addMethods("ListTasks")))
          .build());

  @Test
  void anIdentityAllowedServiceWideMayCallEveryMethod() {
    assertThat(table.decide(Optional.of(FRONTEND), CREATE).allowed()).isTrue();
    assertThat(table.decide(Optional.of(FRONTEND), LIST).allowed()).isTrue();
  }

  @Test
  void aServiceAccountAllowedOneMethodMayCallOnlyThatOne() {
    assertThat(table.decide(Optional.of(BATCH), LIST).allowed()).isTrue();
    InboundAuthorization.Decision refused = table.decide(Optional.of(BATCH), CREATE);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.policy()).isEqualTo("shop/tasks");
  }

  @Test
  void aNamespaceRuleMatchesEveryServiceAccountOfItAndNoOtherNamespace() {
    assertThat(table.decide(Optional.of(OTHER), LIST).allowed()).isTrue();
    assertThat(table.decide(Optional.of(OTHER), CREATE).allowed()).isFalse();
    assertThat(table.decide(Optional.of(new SpiffeId("cluster.local", "dev", "frontend")), LIST).allowed()).isFalse();
  }

  @Test
  void anUnauthenticatedCallerMatchesNoRuleWithCallers() {
    assertThat(table.decide(Optional.empty(), LIST).allowed()).isFalse();
  }

  @Test
  void noPolicyLetsEverythingThrough() {
    assertThat(InboundAuthorization.UNRESTRICTED.decide(Optional.empty(), CREATE).allowed()).isTrue();
  }
}
