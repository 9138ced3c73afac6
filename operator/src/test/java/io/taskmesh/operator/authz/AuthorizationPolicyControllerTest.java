package io.taskmesh.operator.authz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.discovery.v1.CallerMatch;
import io.taskmesh.discovery.v1.InboundAuthorization;
import io.taskmesh.discovery.v1.MethodMatch;
import io.taskmesh.operator.api.AuthorizationPolicy;
import io.taskmesh.operator.api.AuthorizationPolicySpec;
import io.taskmesh.operator.api.AuthorizationPolicyStatus;
import io.taskmesh.operator.discovery.PodAcks;
import io.taskmesh.operator.discovery.ServiceKey;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** AuthorizationPolicies stored in the (mock) API server become their target's table, with status written back. */
@EnableKubernetesMockClient(crud = true)
class AuthorizationPolicyControllerTest {
  private static final Duration BOUND = Duration.ofSeconds(60);
  private static final String NAMESPACE = "shop";
  private static final ServiceKey TASKS = new ServiceKey("tasks", NAMESPACE);

  static KubernetesClient client;

  @Test
  void anAcceptedPolicyBecomesItsTargetsTableAndCountsTheSidecarsEnforcingIt() {
    for (String pod : List.of("tasks-0", "tasks-1")) {
      client.resource(new PodBuilder().withNewMetadata().withName(pod).withNamespace(NAMESPACE)
          .addToLabels("taskmesh.io/service", "tasks").endMetadata()
          .withNewSpec().addNewContainer().withName("app").withImage("tasks").endContainer().endSpec().build()).create();
    }
    AuthorizationTables tables = new AuthorizationTables();
    try (AuthorizationPolicyController controller = new AuthorizationPolicyController(client, tables, Clock.systemUTC())) {
      controller.start();
      client.resource(readers("readers", "ListTasks")).create();

      await().atMost(BOUND).until(() -> tables.current(TASKS).getRulesCount() == 1);
      InboundAuthorization table = tables.current(TASKS);
      assertThat(table.getDefaultDeny()).as("a policy's default is Deny").isTrue();
      assertThat(table.getDefaultDenyPoliciesList()).containsExactly("shop/readers");
      assertThat(table.getRules(0).getPolicy()).isEqualTo("shop/readers");
      assertThat(table.getRules(0).getFromList()).containsExactly(
          CallerMatch.newBuilder().setNamespace("web").build(),
          CallerMatch.newBuilder().setNamespace(NAMESPACE).setServiceAccount("batch").build());
      assertThat(table.getRules(0).getToList()).containsExactly(MethodMatch.newBuilder()
          .setGrpcService("taskservice.TaskService").addMethods("ListTasks").build());
      AuthorizationPolicyStatus status = awaitStatus("readers", s -> "0/2".equals(s.applied));
      assertThat(accepted(status)).satisfies(c -> {
        assertThat(c.getStatus()).isEqualTo("True");
        assertThat(c.getReason()).isEqualTo("Accepted");
        assertThat(c.getObservedGeneration()).isEqualTo(policy("readers").getMetadata().getGeneration());
      });
      assertThat(status.rulesHash).isEqualTo(table.getHash());

      client.pods().inNamespace(NAMESPACE).withName("tasks-0").edit(pod -> new PodBuilder(pod).editMetadata()
          .addToAnnotations(PodAcks.AUTHORIZATION_ANNOTATION, table.getHash()).endMetadata().build());
      controller.acksChanged();
      awaitStatus("readers", s -> "1/2".equals(s.applied));

      client.resource(readers("readers", "GetTask")).update();
      await().atMost(BOUND).until(() -> !tables.current(TASKS).getHash().equals(table.getHash()));
      awaitStatus("readers", s -> "0/2".equals(s.applied) && tables.current(TASKS).getHash().equals(s.rulesHash));

      client.resource(policy("readers")).delete();
      await().atMost(BOUND).until(() -> tables.current(TASKS).getUnrestricted());
    }
  }

  @Test
  void anInvalidPolicyIsNotAcceptedAndChangesNoTable() {
    AuthorizationTables tables = new AuthorizationTables();
    try (AuthorizationPolicyController controller = new AuthorizationPolicyController(client, tables, Clock.systemUTC())) {
      controller.start();
      client.resource(readers("bad", "taskservice.TaskService/GetTask")).create();

      AuthorizationPolicyStatus status = awaitStatus("bad", s -> !s.conditions.isEmpty());
      assertThat(accepted(status).getStatus()).isEqualTo("False");
      assertThat(accepted(status).getReason()).isEqualTo("Invalid");
      assertThat(accepted(status).getMessage()).contains("spec.rules[0].to[0].methods[0]", "not a gRPC method name");
      assertThat(tables.current(TASKS).getUnrestricted()).isTrue();
    }
  }

  /** Namespace web, and ServiceAccount batch of the policy's own namespace, may call one method. */
  private static AuthorizationPolicy readers(String name, String method) {
    AuthorizationPolicySpec spec = new AuthorizationPolicySpec();
    spec.targetRef = new AuthorizationPolicySpec.TargetRef();
    spec.targetRef.name = "tasks";
    AuthorizationPolicySpec.Rule rule = new AuthorizationPolicySpec.Rule();
    AuthorizationPolicySpec.Caller web = new AuthorizationPolicySpec.Caller();
    web.namespace = "web";
    AuthorizationPolicySpec.Caller batch = new AuthorizationPolicySpec.Caller();
    batch.serviceAccount = "batch";
    rule.from = List.of(web, batch);
    AuthorizationPolicySpec.Method to = new AuthorizationPolicySpec.Method();
    to.service = "taskservice.TaskService";
    to.methods = List.of(method);
    rule.to = List.of(to);
    spec.rules = List.of(rule);
    return new AuthorizationPolicy(NAMESPACE, name, spec);
  }

  private static AuthorizationPolicy policy(String name) {
    return client.resources(AuthorizationPolicy.class).inNamespace(NAMESPACE).withName(name).get();
  }

  private static AuthorizationPolicyStatus awaitStatus(String name, Predicate<AuthorizationPolicyStatus> until) {
    await().atMost(BOUND).until(() -> policy(name).getStatus() != null && until.test(policy(name).getStatus()));
    return policy(name).getStatus();
  }

  private static Condition accepted(AuthorizationPolicyStatus status) {
    return status.conditions.stream().filter(c -> "Accepted".equals(c.getType())).findFirst().orElseThrow();
  }
}
