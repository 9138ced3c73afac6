package io.taskmesh.sidecar.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.sidecar.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryBudgetTest {
  private final FakeClock clock = new FakeClock();
  private final RetryBudget budget = new RetryBudget(20, 5, Duration.ofSeconds(10), clock);

  @Test
  void whenEveryCallFailsRetriesStayWithinTheShareOfRequests() {
    int granted = 0;
    for (int i = 0; i < 1_000; i++) {
      budget.recordRequest();
      if (budget.tryAcquireRetry()) {
        granted++;
      }
    }

    assertThat(granted).isEqualTo(200);
    assertThat(budget.retriesInWindow()).isLessThanOrEqualTo(budget.requestsInWindow() * 20 / 100);
  }

  @Test
  void aQuietServiceMayStillRetryAFewTimes() {
    budget.recordRequest();

    assertThat(budget.tryAcquireRetry()).isTrue();
    for (int i = 0; i < 4; i++) {
      assertThat(budget.tryAcquireRetry()).isTrue();
    }
    assertThat(budget.tryAcquireRetry()).as("the floor is 5 per window").isFalse();
  }

  @Test
  void theBudgetRefillsAsTheWindowSlides() {
    for (int i = 0; i < 100; i++) {
      budget.recordRequest();
    }
    while (budget.tryAcquireRetry()) {
      // spend it all
    }
    assertThat(budget.tryAcquireRetry()).isFalse();

    clock.advance(Duration.ofSeconds(11));

    assertThat(budget.retriesInWindow()).isZero();
    assertThat(budget.tryAcquireRetry()).as("the floor applies again").isTrue();
  }
}
