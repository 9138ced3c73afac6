package io.taskmesh.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Status;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives a {@link CallFactory} either open loop (requests due at a constant rate, whatever the answers do)
 * or closed loop (a fixed number of requests outstanding, each answer starting the next). A warm-up runs
 * first and is not recorded.
 */
public final class LoadGenerator {
  private static final long MAX_OUTSTANDING = 20_000;

  private final CallFactory calls;

  public LoadGenerator(CallFactory calls) {
    this.calls = calls;
  }

  public LoadResult openLoop(int requestsPerSecond, Duration warmUp, Duration measured) {
    Outcomes outcomes = new Outcomes();
    long intervalNanos = TimeUnit.SECONDS.toNanos(1) / requestsPerSecond;
    long start = System.nanoTime();
    long measureFrom = start + warmUp.toNanos();
    long end = measureFrom + measured.toNanos();
    AtomicLong outstanding = new AtomicLong();
    long overloaded = 0;
    for (long i = 0; ; i++) {
      long due = start + i * intervalNanos;
      if (due >= end) {
        break;
      }
      waitUntil(due);
      boolean recorded = due >= measureFrom;
      if (outstanding.get() >= MAX_OUTSTANDING) {
        overloaded += recorded ? 1 : 0;
        continue;
      }
      outstanding.incrementAndGet();
      send(outcomes, due, recorded, outstanding::decrementAndGet);
    }
    awaitQuiet(outstanding);
    return outcomes.result(overloaded, measured);
  }

  public LoadResult closedLoop(int concurrency, Duration warmUp, Duration measured) {
    Outcomes outcomes = new Outcomes();
    long measureFrom = System.nanoTime() + warmUp.toNanos();
    long end = measureFrom + measured.toNanos();
    CountDownLatch done = new CountDownLatch(concurrency);
    for (int i = 0; i < concurrency; i++) {
      new Worker(outcomes, measureFrom, end, done).next();
    }
    try {
      if (!done.await(measured.plus(warmUp).toSeconds() + 60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("closed-loop workers did not finish within a minute of the run's end");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return outcomes.result(0, measured);
  }

  /** One closed-loop stream: sends again as soon as the previous answer is in, until the run ends. */
  private final class Worker {
    private final Outcomes outcomes;
    private final long measureFrom;
    private final long end;
    private final CountDownLatch done;

    Worker(Outcomes outcomes, long measureFrom, long end, CountDownLatch done) {
      this.outcomes = outcomes;
      this.measureFrom = measureFrom;
      this.end = end;
      this.done = done;
    }

    void next() {
      long sent = System.nanoTime();
      if (sent >= end) {
        done.countDown();
        return;
      }
      send(outcomes, sent, sent >= measureFrom, this::next);
    }
  }

  private void send(Outcomes outcomes, long due, boolean recorded, Runnable then) {
    Futures.addCallback(calls.call(), new FutureCallback<Object>() {
      @Override
      public void onSuccess(Object result) {
        if (recorded) {
          outcomes.succeeded(System.nanoTime() - due);
        }
        then.run();
      }

      @Override
      public void onFailure(Throwable failure) {
        if (recorded) {
          outcomes.failed(Status.fromThrowable(failure).getCode());
        }
        then.run();
      }
    }, MoreExecutors.directExecutor());
  }

  private static void waitUntil(long due) {
    long now;
    while ((now = System.nanoTime()) < due) {
      LockSupport.parkNanos(due - now);
    }
  }

  private static void awaitQuiet(AtomicLong outstanding) {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (outstanding.get() > 0 && System.nanoTime() < giveUp) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  /** Thread-safe tally of answers inside the measured window. */
  private static final class Outcomes {
    private final Recorder latencies = new Recorder(3);
    private final AtomicLong succeeded = new AtomicLong();
    private final Map<Status.Code, LongAdder> failed = new ConcurrentHashMap<>();

    void succeeded(long latencyNanos) {
      latencies.recordValue(Math.max(1, latencyNanos / 1_000));
      succeeded.incrementAndGet();
    }

    void failed(Status.Code code) {
      failed.computeIfAbsent(code, any -> new LongAdder()).increment();
    }

    LoadResult result(long overloaded, Duration measured) {
      Histogram histogram = latencies.getIntervalHistogram();
      Map<String, Long> failures = new TreeMap<>();
      failed.forEach((code, count) -> failures.put(code.name(), count.sum()));
      return new LoadResult(histogram, succeeded.get(), failures, overloaded, measured.toNanos() / 1e9);
    }
  }
}
