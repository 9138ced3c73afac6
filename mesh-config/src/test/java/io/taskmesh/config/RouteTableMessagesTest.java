package io.taskmesh.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTableMessagesTest {

  @Test
  void rulesReadBackEqualToWhatWasSent() {
    List<RouteRule> rules = List.of(
        new RouteRule(List.of(new RouteMatch("taskservice.TaskService", "GetTask", List.of(new Header("x-api-version", "v2"))),
            new RouteMatch(null, null, List.of())),
            List.of(new RouteBackend("task-service-v2", 1)),
            new HeaderModifier(List.of(new Header("x-canary", "1")), List.of(new Header("x-via", "mesh")), List.of("x-debug")),
            Duration.ofMillis(1500)),
        new RouteRule(List.of(), List.of(new RouteBackend("task-service-v1", 90), new RouteBackend("task-service-v2", 10)),
            HeaderModifier.NONE, null));

    var message = RouteTableMessages.toMessage(7, rules);

    assertThat(message.getVersion()).isEqualTo(7);
    assertThat(RouteTableMessages.rules(message)).isEqualTo(rules);
  }
}
