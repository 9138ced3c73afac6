package io.taskmesh.sidecar.route;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AuthorityRouterTest {
  @ParameterizedTest
  @ValueSource(strings = {
    "task-service", "task-service:50051", "task-service.default", "task-service.default:15006",
    "task-service.default.svc", "task-service.default.svc.cluster.local", "Task-Service.default.svc.cluster.local:80"
  })
  void everyKubernetesSpellingOfAServiceNamesTheSameCluster(String authority) {
    assertThat(AuthorityRouter.serviceName(authority)).isEqualTo("task-service");
  }
}
