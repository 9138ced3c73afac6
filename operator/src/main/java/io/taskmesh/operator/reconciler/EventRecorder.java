package io.taskmesh.operator.reconciler;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.taskmesh.operator.api.TaskService;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes Events on a TaskService, so that {@code kubectl describe ts} and {@code kubectl get events}
 * show what the operator refused or failed to do. An Event is a courtesy: failing to record one is logged
 * and never fails the reconcile.
 */
public final class EventRecorder {
  static final String COMPONENT = "taskmesh-operator";
  private static final Logger log = LoggerFactory.getLogger(EventRecorder.class);

  private final Clock clock;
  private final String instance;

  /** @param instance the operator replica, as Events name it (its pod name) */
  public EventRecorder(Clock clock, String instance) {
    this.clock = clock;
    this.instance = instance;
  }

  public void warning(KubernetesClient client, TaskService service, String reason, String message) {
    Instant now = clock.instant();
    String time = now.truncatedTo(ChronoUnit.SECONDS).toString();
    try {
      client.v1().events().inNamespace(service.getMetadata().getNamespace()).resource(new EventBuilder()
          .withNewMetadata()
            .withName(service.getMetadata().getName() + "." + Long.toHexString(now.getEpochSecond() * 1_000_000_000L
                + now.getNano()))
            .withNamespace(service.getMetadata().getNamespace())
          .endMetadata()
          .withNewInvolvedObject()
            .withApiVersion(HasMetadata.getApiVersion(TaskService.class)).withKind(HasMetadata.getKind(TaskService.class))
            .withName(service.getMetadata().getName()).withNamespace(service.getMetadata().getNamespace())
            .withUid(service.getMetadata().getUid()).withResourceVersion(service.getMetadata().getResourceVersion())
          .endInvolvedObject()
          .withType("Warning").withReason(reason).withMessage(message).withCount(1)
          .withFirstTimestamp(time).withLastTimestamp(time).withEventTime(new MicroTime(now.toString()))
          .withAction("Reconcile").withReportingComponent(COMPONENT).withReportingInstance(instance)
          .withNewSource().withComponent(COMPONENT).endSource()
          .build()).create();
    } catch (KubernetesClientException e) {
      log.warn("event=event_not_recorded taskservice={}/{} reason={} error=\"{}\"",
          service.getMetadata().getNamespace(), service.getMetadata().getName(), reason, e.getMessage());
    }
  }
}
