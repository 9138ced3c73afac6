package io.taskmesh.operator.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTPS endpoint {@code POST /inject}: AdmissionReview v1 in, AdmissionReview v1 out. A body that is not an
 * AdmissionReview gets 400 and an unexpected failure 500; the API server then applies the webhook's
 * failurePolicy.
 */
public final class WebhookServer implements AutoCloseable {
  public static final String PATH = "/inject";
  private static final Logger log = LoggerFactory.getLogger(WebhookServer.class);
  private static final ObjectMapper JSON = Serialization.jsonMapper();
  private static final int MAX_BODY = 3 * 1024 * 1024;

  private final HttpsServer server;
  private final ExecutorService executor;

  private WebhookServer(HttpsServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  public static WebhookServer start(String bindAddress, int port, SSLContext tls, SidecarInjector injector,
      WebhookMetrics metrics) throws IOException {
    HttpsServer server = HttpsServer.create(new InetSocketAddress(bindAddress, port), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    ExecutorService executor = Executors.newFixedThreadPool(4, runnable -> {
      Thread thread = new Thread(runnable, "webhook");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(executor);
    server.createContext(PATH, exchange -> {
      long start = System.nanoTime();
      try (exchange) {
        metrics.record(handle(exchange, injector), Duration.ofNanos(System.nanoTime() - start));
      }
    });
    server.start();
    return new WebhookServer(server, executor);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** @return the outcome, as {@link WebhookMetrics} counts it */
  private static String handle(HttpExchange exchange, SidecarInjector injector) throws IOException {
    if (!"POST".equals(exchange.getRequestMethod())) {
      reply(exchange, 405, "text/plain", "POST an AdmissionReview to " + PATH);
      return "invalid";
    }
    AdmissionReview review;
    try (InputStream body = exchange.getRequestBody()) {
      byte[] bytes = body.readNBytes(MAX_BODY + 1);
      if (bytes.length > MAX_BODY) {
        reply(exchange, 413, "text/plain", "AdmissionReview larger than " + MAX_BODY + " bytes");
        return "invalid";
      }
      review = JSON.readValue(bytes, AdmissionReview.class);
    } catch (IOException e) {
      reply(exchange, 400, "text/plain", "body is not an AdmissionReview JSON document: " + e.getMessage());
      return "invalid";
    }
    if (review == null || review.getRequest() == null || review.getRequest().getUid() == null) {
      reply(exchange, 400, "text/plain", "AdmissionReview has no request (or no request.uid)");
      return "invalid";
    }
    AdmissionResponse response;
    try {
      response = injector.review(review.getRequest());
    } catch (RuntimeException e) {
      log.warn("event=webhook_failed uid={} error=\"{}\"", review.getRequest().getUid(), e.toString());
      reply(exchange, 500, "text/plain", "taskmesh sidecar injection failed: " + e.getMessage());
      return "failed";
    }
    log.debug("event=webhook_reviewed uid={} namespace={} allowed={} patched={}", response.getUid(),
        review.getRequest().getNamespace(), response.getAllowed(), response.getPatch() != null);
    AdmissionReview answer = new AdmissionReviewBuilder().withApiVersion("admission.k8s.io/v1")
        .withKind("AdmissionReview").withResponse(response).build();
    reply(exchange, 200, "application/json", JSON.writeValueAsString(answer));
    return !Boolean.TRUE.equals(response.getAllowed()) ? "denied" : response.getPatch() != null ? "injected" : "allowed";
  }

  private static void reply(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
