package io.taskmesh.sidecar.logical;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.taskmesh.config.RetryPolicy;
import io.taskmesh.sidecar.route.Retries;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The logical layer's retry decisions, without a network: attempts, statuses, the body, the deadline, the budget. */
class RetryingTest {
  private static final RetryPolicy THREE_TRIES_ON_UNAVAILABLE =
      new RetryPolicy(3, Duration.ofSeconds(1), List.of("UNAVAILABLE"), 100);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Retries budgets = new Retries(registry);

  @Test
  void aWholeBodyIsRetriedOnTheStatusesOfThePolicyUntilTheAttemptsAreSpent() {
    Retrying retrying = new Retrying(THREE_TRIES_ON_UNAVAILABLE, budgets, "billing", true);

    assertThat(retrying.mayRetry("INTERNAL", false, null)).as("a status the policy does not retry").isFalse();
    assertThat(retrying.mayRetry("INTERNAL", true, null)).as("whatever the status").isTrue();
    retrying.retried();
    assertThat(retrying.mayRetry("UNAVAILABLE", false, null)).isTrue();
    retrying.retried();
    assertThat(retrying.mayRetry("UNAVAILABLE", false, null)).as("three tries made").isFalse();
    assertThat(registry.get("taskmesh.retries").tag("service", "billing").counter().count()).isEqualTo(2);
  }

  @Test
  void aBodyNotYetEndedOrNoLongerKeptIsNotRetriedAndItsBuffersAreReleased() {
    Retrying unfinished = new Retrying(THREE_TRIES_ON_UNAVAILABLE, budgets, "billing", false);
    ByteBuf part = Unpooled.buffer().writeZero(10);
    unfinished.keep(new DefaultHttp2DataFrame(part, false));
    assertThat(unfinished.mayRetry("UNAVAILABLE", false, null)).as("the body has not ended").isFalse();

    unfinished.keep(new DefaultHttp2ResetFrame(Http2Error.CANCEL)); // not a body frame: no replay from here on
    assertThat(part.refCnt()).as("only the caller's own reference is left").isEqualTo(1);
    assertThat(unfinished.replayFrames()).isNull();
    part.release();
  }

  @Test
  void aReplayIsTheWholeBodyAgainOverTheSameBytes() {
    Retrying retrying = new Retrying(THREE_TRIES_ON_UNAVAILABLE, budgets, "billing", false);
    ByteBuf body = Unpooled.buffer().writeBytes(new byte[] {0, 0, 0, 0, 1, 7});
    retrying.keep(new DefaultHttp2DataFrame(body, true));

    List<Http2DataFrame> replay = retrying.replayFrames();
    assertThat(replay).hasSize(1);
    assertThat(replay.get(0).isEndStream()).isTrue();
    assertThat(retrying.body()).containsExactly(0, 0, 0, 0, 1, 7);
    replay.forEach(Http2DataFrame::release);
    retrying.release();
    assertThat(body.refCnt()).isEqualTo(1);
    body.release();
  }

  @Test
  void noRetryStartsWithTooLittleOfTheDeadlineLeft() {
    Retrying retrying = new Retrying(THREE_TRIES_ON_UNAVAILABLE, budgets, "billing", true);
    long start = System.nanoTime();

    assertThat(retrying.mayRetry("UNAVAILABLE", false, Deadline.of("1m", true, Duration.ZERO, start))).isFalse();
    assertThat(retrying.mayRetry("UNAVAILABLE", false, Deadline.of("30S", true, Duration.ZERO, start))).isTrue();
  }

  @Test
  void aSpentBudgetRefusesTheRetryAndCountsTheRefusal() {
    RetryPolicy noBudget = new RetryPolicy(3, Duration.ofSeconds(1), List.of("UNAVAILABLE"), 0);
    for (int i = 0; i < 10; i++) { // the per-window floor every service has
      new Retrying(noBudget, budgets, "billing", true).mayRetry("UNAVAILABLE", false, null);
    }

    assertThat(new Retrying(noBudget, budgets, "billing", true).mayRetry("UNAVAILABLE", false, null)).isFalse();
    assertThat(registry.get("taskmesh.retries.refused").tag("service", "billing").counter().count()).isEqualTo(1);
  }

  @Test
  void aPolicyOfOneAttemptKeepsNothingAndCountsNoRequest() {
    Retrying once = new Retrying(new RetryPolicy(1, Duration.ZERO, List.of("UNAVAILABLE"), 20), budgets, "billing", true);

    assertThat(once.mayRetry("UNAVAILABLE", false, null)).isFalse();
    assertThat(once.body()).isNull();
  }
}
