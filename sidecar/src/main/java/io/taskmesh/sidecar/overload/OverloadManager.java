package io.taskmesh.sidecar.overload;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.taskmesh.config.OverloadConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures what runs out first when a proxy is pushed past its capacity, and says when it is: heap in use
 * after the last collection, direct buffer memory in use, and how late each event loop runs a task scheduled
 * on it. While any is over its threshold, listeners refuse new streams ({@code reason=overloaded}) and
 * streams in progress go on, so the proxy sheds load before memory is exhausted instead of dying of it.
 *
 * <p>Gauges: {@code taskmesh_overload_active} (1 while refusing), {@code taskmesh_overload_heap_ratio},
 * {@code taskmesh_overload_direct_memory_ratio}, {@code taskmesh_overload_event_loop_lag_seconds} (the worst
 * loop's, last sample); counter {@code taskmesh_overload_refused_total{listener}}.
 */
public final class OverloadManager implements AutoCloseable {
  private final OverloadConfig config;
  private final MeterRegistry registry;
  private final List<MemoryPoolMXBean> heapPools;
  private final Map<EventExecutor, AtomicLong> lagNanos = new ConcurrentHashMap<>();
  private final Map<String, Counter> refused = new ConcurrentHashMap<>();
  private final List<ScheduledFuture<?>> probes = new java.util.ArrayList<>();
  private final ScheduledFuture<?> sampler;
  private volatile double heapRatio;
  private volatile double directRatio;
  private volatile String cause;

  public OverloadManager(OverloadConfig config, EventLoopGroup loops, MeterRegistry registry) {
    this.config = config;
    this.registry = registry;
    this.heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(pool -> pool.getType() == MemoryType.HEAP && pool.isCollectionUsageThresholdSupported()).toList();
    long interval = config.sampleInterval().toNanos();
    for (EventExecutor loop : loops) {
      AtomicLong lag = new AtomicLong();
      lagNanos.put(loop, lag);
      probes.add(loop.scheduleAtFixedRate(new LagProbe(lag, interval), interval, interval, TimeUnit.NANOSECONDS));
    }
    EventExecutor first = loops.iterator().next();
    sampler = first.scheduleAtFixedRate(this::sample, interval, interval, TimeUnit.NANOSECONDS);
    Gauge.builder("taskmesh.overload.active", this, manager -> manager.cause == null ? 0 : 1).register(registry);
    Gauge.builder("taskmesh.overload.heap.ratio", this, manager -> manager.heapRatio).register(registry);
    Gauge.builder("taskmesh.overload.direct.memory.ratio", this, manager -> manager.directRatio).register(registry);
    Gauge.builder("taskmesh.overload.event.loop.lag", this, manager -> manager.worstLagNanos() / 1e9)
        .baseUnit("seconds").register(registry);
  }

  /** Whether new streams are to be refused now. */
  public boolean overloaded() {
    return cause != null;
  }

  /** What is over its threshold, e.g. {@code direct memory at 85% (threshold 80%)}, or null. */
  public String cause() {
    return cause;
  }

  /** Counts a stream or request refused on {@code listener} because of overload. */
  public void refused(String listener) {
    refused.computeIfAbsent(listener, name -> Counter.builder("taskmesh.overload.refused")
        .description("new streams refused while the proxy was overloaded").tag("listener", name)
        .register(registry)).increment();
  }

  private void sample() {
    heapRatio = heapAfterCollection();
    directRatio = directMemory();
    long lag = worstLagNanos();
    String now = null;
    if (heapRatio * 100 > config.maxHeapPercent()) {
      now = String.format("heap at %.0f%% after collection (threshold %d%%)", heapRatio * 100, config.maxHeapPercent());
    } else if (directRatio * 100 > config.maxDirectMemoryPercent()) {
      now = String.format("direct memory at %.0f%% (threshold %d%%)", directRatio * 100, config.maxDirectMemoryPercent());
    } else if (!config.maxEventLoopLag().isZero() && lag > config.maxEventLoopLag().toNanos()) {
      now = "event loop " + TimeUnit.NANOSECONDS.toMillis(lag) + " ms late (threshold "
          + config.maxEventLoopLag().toMillis() + " ms)";
    }
    cause = now;
  }

  /** Live data after the last collection: garbage not yet collected is no pressure. */
  private double heapAfterCollection() {
    long max = Runtime.getRuntime().maxMemory();
    long used = 0;
    for (MemoryPoolMXBean pool : heapPools) {
      MemoryUsage afterGc = pool.getCollectionUsage();
      used += afterGc == null ? 0 : afterGc.getUsed();
    }
    return max <= 0 ? 0 : (double) used / max;
  }

  private static double directMemory() {
    long max = DirectMemory.max();
    return max <= 0 ? 0 : (double) DirectMemory.used() / max;
  }

  private long worstLagNanos() {
    long worst = 0;
    for (AtomicLong lag : lagNanos.values()) {
      worst = Math.max(worst, lag.get());
    }
    return worst;
  }

  @Override
  public void close() {
    sampler.cancel(false);
    probes.forEach(probe -> probe.cancel(false));
  }

  /** Runs on its loop every interval; how much later than due it ran is the loop's lag. */
  private static final class LagProbe implements Runnable {
    private final AtomicLong lag;
    private final long interval;
    private long due;

    LagProbe(AtomicLong lag, long interval) {
      this.lag = lag;
      this.interval = interval;
      this.due = System.nanoTime() + interval;
    }

    @Override
    public void run() {
      long now = System.nanoTime();
      lag.set(Math.max(0, now - due));
      due += interval; // fixed rate: each run is due one interval after the previous was due
    }
  }
}
