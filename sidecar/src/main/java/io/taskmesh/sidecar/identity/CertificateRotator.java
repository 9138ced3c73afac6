package io.taskmesh.sidecar.identity;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a certificate current: the first as soon as it is started, each next one at two-thirds of the
 * current one's life (counted from when it arrived). A failed attempt is retried after 1 s, doubling to at most 30 s; the certificate in
 * use stays in use meanwhile, so a third of its life is left for the issuer to come back.
 */
public final class CertificateRotator implements AutoCloseable {
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  static final Duration MAX_RETRY = Duration.ofSeconds(30);
  private static final Logger log = LoggerFactory.getLogger(CertificateRotator.class);

  /** Where certificates come from: one call, one new key and certificate. */
  @FunctionalInterface
  public interface Source {
    WorkloadCertificate certify() throws Exception;
  }

  private final Source source;
  private final Consumer<WorkloadCertificate> sink;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final CompletableFuture<WorkloadCertificate> first = new CompletableFuture<>();
  private volatile WorkloadCertificate current;
  private Duration retry = FIRST_RETRY;

  /** @param sink is given every new certificate, on the rotator's thread, before it counts as current */
  public CertificateRotator(Source source, Consumer<WorkloadCertificate> sink, Clock clock) {
    this.source = source;
    this.sink = sink;
    this.clock = clock;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "certificate-rotation");
      thread.setDaemon(true);
      return thread;
    });
  }

  /** @return completes with the first certificate (it never fails: attempts go on until one succeeds) */
  public CompletableFuture<WorkloadCertificate> start() {
    scheduler.execute(this::attempt);
    return first;
  }

  public Optional<WorkloadCertificate> current() {
    return Optional.ofNullable(current);
  }

  private void attempt() {
    try {
      WorkloadCertificate fresh = source.certify();
      Instant received = clock.instant();
      sink.accept(fresh);
      WorkloadCertificate previous = current;
      current = fresh;
      retry = FIRST_RETRY;
      first.complete(fresh);
      Duration wait = nonNegative(Duration.between(clock.instant(), fresh.renewAt(received)));
      log.info("event=certificate_{} spiffe_id={} serial={} not_after={} renew_in={}s",
          previous == null ? "issued" : "rotated", fresh.id(), fresh.leaf().getSerialNumber().toString(16),
          fresh.notAfter(), wait.toSeconds());
      scheduler.schedule(this::attempt, wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      WorkloadCertificate inUse = current;
      Instant expires = inUse == null ? null : inUse.notAfter();
      log.warn("event=certificate_request_failed retry_in={}ms current_expires={} error=\"{}\"", retry.toMillis(),
          expires == null ? "none" : expires, e.toString());
      scheduler.schedule(this::attempt, retry.toMillis(), TimeUnit.MILLISECONDS);
      retry = retry.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : retry.multipliedBy(2);
    }
  }

  private static Duration nonNegative(Duration duration) {
    return duration.isNegative() ? Duration.ZERO : duration;
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
