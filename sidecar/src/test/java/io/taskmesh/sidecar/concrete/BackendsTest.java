package io.taskmesh.sidecar.concrete;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackendsTest {
  private static Backend backend(String service, int weight) {
    return new Backend(service, weight, (name, then) -> then.accept(Optional.empty()));
  }

  @Test
  void aSingleBackendGetsEveryRequestWithoutADraw() {
    Backend only = backend("task-service", 1);
    Backends backends = Backends.single(only);

    assertThat(backends.choose(bound -> {
      throw new AssertionError("no random number needed for one backend");
    })).isSameAs(only);
  }

  @Test
  void requestsSplitByWeight() {
    Backend v1 = backend("task-service-v1", 90);
    Backend v2 = backend("task-service-v2", 10);
    Backends backends = Backends.of(List.of(v1, v2));
    Random random = new Random(21);
    Map<Backend, Integer> chosen = new HashMap<>();

    for (int i = 0; i < 10_000; i++) {
      chosen.merge(backends.choose(random::nextInt), 1, Integer::sum);
    }

    assertThat(chosen.get(v1)).isBetween(8_800, 9_200);
    assertThat(chosen.get(v2)).isBetween(800, 1_200);
  }

  @Test
  void aBackendWeightedZeroGetsNothing() {
    Backend blue = backend("blue", 0);
    Backend green = backend("green", 100);
    Backends backends = Backends.of(List.of(blue, green));

    for (int ticket = 0; ticket < 100; ticket++) {
      int fixed = ticket;
      assertThat(backends.choose(bound -> fixed)).isSameAs(green);
    }
  }

  @Test
  void aRouteWithoutWeightIsRejectedNamingItsBackends() {
    assertThatThrownBy(() -> Backends.of(List.of(backend("blue", 0))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blue");
    assertThatThrownBy(() -> backend("green", -1)).hasMessageContaining("green").hasMessageContaining("-1");
  }
}
