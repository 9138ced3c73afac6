package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.taskmesh.operator.admin.AdminServer;
import io.taskmesh.operator.reconciler.EventRecorder;
import io.taskmesh.operator.reconciler.SidecarCensus;
import io.taskmesh.operator.reconciler.TaskServiceReconciler;
import io.taskmesh.operator.webhook.InjectionWebhook;
import io.taskmesh.operator.webhook.WebhookFixture;
import io.taskmesh.operator.webhook.WebhookMetrics;
import io.taskmesh.operator.webhook.WebhookSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The operator's /metrics on its admin port, scraped over HTTP as Prometheus would: JOSDK's reconcile
 * counters move when a TaskService is reconciled, and the webhook counts the admission it answered.
 */
@EnableKubernetesMockClient(crud = true)
class OperatorMetricsTest {
  private static final Duration BOUND = Duration.ofSeconds(60);
  static KubernetesClient client;

  @Test
  void metricsAnswerWithReconcileCountersAndWebhookAdmissions() throws Exception {
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    client.resource(new NamespaceBuilder().withNewMetadata().withName("metered")
        .addToLabels("taskmesh.io/injection", "enabled").endMetadata().build()).create();
    client.resource(WebhookFixture.configuration("metered-injector")).create();
    Operator operator = Operators.create(client, null, metrics);
    operator.register(new TaskServiceReconciler(TestTaskServices.SETTINGS, Clock.systemUTC(), SidecarCensus.none(),
        new EventRecorder(Clock.systemUTC(), "test")));
    operator.start();
    WebhookSettings webhookSettings = new WebhookSettings(true, "127.0.0.1", 0, "taskmesh-system",
        "metered-injector", "localhost", "metered-cert", true, Path.of("unused"));
    try (AdminServer admin = AdminServer.start("127.0.0.1", 0, () -> true, metrics);
        InjectionWebhook webhook = InjectionWebhook.start(client, TestTaskServices.SETTINGS, webhookSettings,
            Clock.systemUTC(), new WebhookMetrics(metrics))) {
      client.resource(TestTaskServices.withTimeout("metered", "tasks", "2s")).create();
      await().atMost(BOUND).until(() -> client.configMaps().inNamespace("metered").withName("tasks-proxy").get() != null);
      WebhookFixture.admitPod(client, webhookSettings, webhook.port(), "metered", "tasks");

      String scraped = await().atMost(BOUND).until(() -> scrape(admin.port()),
          text -> successes(text) >= 1 && text.contains("taskmesh_webhook_admissions_seconds_count{outcome=\"injected\"} 1"));
      assertThat(scraped).contains("operator_sdk_reconciliations_started_total{")
          .contains("operator_sdk_controllers_execution_reconcile_seconds_count{controller=\"taskservice\"");
      assertThat(scraped).contains("taskmesh_webhook_admissions_seconds_bucket{outcome=\"injected\",le=\"1.0\"} 1");
    } finally {
      operator.stop();
    }
  }

  private static double successes(String scraped) {
    return scraped.lines().filter(line -> line.startsWith("operator_sdk_reconciliations_success_total{"))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
  }

  private static String scrape(int port) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10))
            .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
    return response.body();
  }
}
