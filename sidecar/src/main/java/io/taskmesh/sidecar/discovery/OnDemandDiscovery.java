package io.taskmesh.sidecar.discovery;

import io.taskmesh.sidecar.discovery.ControlPlaneEndpointSource.Answer;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Each sidecar holds only what it calls: a request for a service this sidecar has not subscribed to subscribes
 * now and waits (at most the caller's remaining deadline, capped by {@code waitCap}) for the control plane's first
 * answer; a service nobody called for {@code idleAfter} is unsubscribed and its cluster dropped. The services the
 * config names ({@link #pin}) are never dropped.
 */
public final class OnDemandDiscovery implements AutoCloseable {
  public static final Duration DEFAULT_WAIT_CAP = Duration.ofSeconds(1);
  public static final Duration DEFAULT_IDLE_AFTER = Duration.ofMinutes(10);

  /** How a lookup ended: endpoints held, a name discovery does not know, or no answer within the wait. */
  public enum Resolution { FOUND, UNKNOWN, NO_ANSWER }

  private final ControlPlaneEndpointSource source;
  private final Consumer<String> dropCluster;
  private final Duration waitCap;
  private final Duration idleAfter;
  private final LongSupplier nanoTime;
  private final Map<String, Long> lastUsed = new ConcurrentHashMap<>();
  private volatile Set<String> pinned = Set.of();
  private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "taskmesh-discovery-idle");
    thread.setDaemon(true);
    return thread;
  });

  /** @param dropCluster removes the cluster of a service dropped for idleness */
  public OnDemandDiscovery(ControlPlaneEndpointSource source, Consumer<String> dropCluster, Duration waitCap,
      Duration idleAfter, LongSupplier nanoTime) {
    this.source = source;
    this.dropCluster = dropCluster;
    this.waitCap = waitCap;
    this.idleAfter = idleAfter;
    this.nanoTime = nanoTime;
    long sweep = Math.max(50, idleAfter.toMillis() / 4);
    sweeper.scheduleWithFixedDelay(this::dropIdle, sweep, sweep, TimeUnit.MILLISECONDS);
  }

  /** How the services looked up here are named (their subscription and their cluster alike). */
  public ServiceNames names() {
    return source.names();
  }

  /** The services the config in force names (upstreams, static map, gateway routes): subscribed and kept. */
  public void pin(Set<String> services) {
    pinned = Set.copyOf(services);
    services.forEach(source::subscribe);
  }

  /**
   * The service a request names: marks it used and, when it is new, subscribes and waits for the first answer.
   *
   * @param budget what is left of the caller's deadline (null or non-positive: no deadline, the cap alone)
   */
  public CompletableFuture<Resolution> resolve(String service, Duration budget) {
    lastUsed.put(service, nanoTime.getAsLong());
    Duration wait = budget == null || budget.isZero() || budget.isNegative() || budget.compareTo(waitCap) > 0
        ? waitCap : budget;
    return source.subscribe(service)
        .thenApply(answer -> answer == Answer.FOUND ? Resolution.FOUND : Resolution.UNKNOWN)
        .completeOnTimeout(Resolution.NO_ANSWER, wait.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Marks {@code service} as called now, so it is kept. */
  public void touch(String service) {
    lastUsed.put(service, nanoTime.getAsLong());
  }

  /** The service that owns a captured connection's original destination, as {@link #resolve} would wait for it. */
  public CompletableFuture<Optional<String>> serviceAt(String address, Duration budget) {
    Duration wait = budget == null || budget.isZero() || budget.isNegative() || budget.compareTo(waitCap) > 0
        ? waitCap : budget;
    return source.serviceAt(address).completeOnTimeout(Optional.empty(), wait.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** The services subscribed because they were called (the pinned ones aside). */
  public Set<String> onDemand() {
    return Set.copyOf(lastUsed.keySet());
  }

  private void dropIdle() {
    long now = nanoTime.getAsLong();
    lastUsed.forEach((service, used) -> {
      if (now - used >= idleAfter.toNanos() && !pinned.contains(service) && lastUsed.remove(service, used)) {
        source.unsubscribe(service);
        dropCluster.accept(service);
      }
    });
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
  }
}
