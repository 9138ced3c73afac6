package io.taskmesh.operator.webhook;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * {@code taskmesh_webhook_admissions_seconds{outcome}}: every admission the webhook answered, by what it
 * answered ({@code injected}, {@code allowed}, {@code denied}, {@code invalid} for a body that is not an
 * AdmissionReview, {@code failed}, {@code overloaded} when the review queue is full, {@code timeout} for a
 * connection that sent no complete request in time), with buckets around the API server's timeout.
 */
public final class WebhookMetrics {
  private final MeterRegistry registry;

  public WebhookMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void record(String outcome, Duration took) {
    Timer.builder("taskmesh.webhook.admissions")
        .description("Admission reviews answered by the sidecar injection webhook")
        .tag("outcome", outcome)
        .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5))
        .register(registry)
        .record(took);
  }
}
