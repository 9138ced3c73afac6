package io.taskmesh.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.operator.TestTaskServices;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/**
 * The webhook cannot be starved by slow clients: with 50 connections open that stall (half before the TLS
 * handshake, half in the middle of a request body), a valid AdmissionReview is still answered within a
 * second, and the stalled connections are told 408 and closed once their deadline passes.
 */
@EnableKubernetesMockClient(crud = true)
class WebhookServerTest {
  private static final Duration DEADLINE = Duration.ofSeconds(3);
  private static final int SLOW = 50;

  static KubernetesClient client;

  @Test
  void aValidReviewIsAnsweredWithinASecondWhileFiftySlowConnectionsAreOpen() throws Exception {
    client.resource(new NamespaceBuilder().withNewMetadata().withName("apps").endMetadata().build()).create();
    ServingCertificate certificate = ServingCertificate.selfSigned(List.of("localhost"), Duration.ofDays(1),
        Clock.systemUTC());
    List<Socket> slow = new ArrayList<>();
    try (NamespaceLabels namespaces = NamespaceLabels.start(client);
        WebhookServer server = WebhookServer.start("127.0.0.1", 0, new ReloadableKeyManager(certificate).sslContext(),
            new SidecarInjector(client, TestTaskServices.SETTINGS, namespaces),
            new WebhookMetrics(new SimpleMeterRegistry()), DEADLINE)) {
      WebhookClient apiServer = new WebhookClient(certificate.caBundle(), server.port());
      apiServer.review(AdmissionReviews.creating("apps", AdmissionReviews.pod(Map.of())));  // warm up TLS and JSON

      for (int i = 0; i < SLOW / 2; i++) {
        Socket silent = new Socket();
        silent.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
        slow.add(silent);  // connects, never says hello
      }
      for (int i = 0; i < SLOW / 2; i++) {
        SSLSocket trickle = (SSLSocket) trusting(certificate).getSocketFactory().createSocket("127.0.0.1", server.port());
        trickle.startHandshake();
        OutputStream out = trickle.getOutputStream();
        out.write(("POST /inject HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + "Content-Length: 100000\r\n\r\n{\"apiVersion\":").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        slow.add(trickle);  // a request body that never finishes
      }

      long start = System.nanoTime();
      AdmissionResponse answer = apiServer.review(AdmissionReviews.creating("apps", AdmissionReviews.pod(Map.of())))
          .getResponse();
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(answer.getAllowed()).isTrue();
      assertThat(took).as("answered while %d slow connections are open", SLOW).isLessThan(Duration.ofSeconds(1));
      SSLSocket stalled = (SSLSocket) slow.get(slow.size() - 1);
      stalled.setSoTimeout((int) DEADLINE.multipliedBy(10).toMillis());
      String told = new String(stalled.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(told).as("the stalled body is refused, then the connection closed").startsWith("HTTP/1.1 408");
      Socket silent = slow.get(0);
      silent.setSoTimeout((int) DEADLINE.multipliedBy(10).toMillis());
      await().atMost(DEADLINE.multipliedBy(10)).until(() -> closed(silent.getInputStream()));
    } finally {
      for (Socket socket : slow) {
        socket.close();
      }
    }
  }

  private static boolean closed(InputStream in) {
    try {
      while (in.read() >= 0) {
        // drain whatever the server sent before closing (a TLS alert)
      }
      return true;
    } catch (java.io.IOException reset) {
      return true;
    }
  }

  private static SSLContext trusting(ServingCertificate certificate) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", certificate.ca());
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, trustManagers.getTrustManagers(), null);
    return tls;
  }
}
