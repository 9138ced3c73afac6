package io.taskmesh.operator.webhook;

import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * What the API server does with the webhook: trusts exactly the caBundle it was given and POSTs an
 * AdmissionReview over HTTPS, checking the certificate's name. Tests reach the loopback address as
 * {@code localhost}, so they name the webhook's Service {@code localhost}.
 */
final class WebhookClient {
  private final HttpClient http;
  private final URI uri;

  WebhookClient(String caBundle, int port) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    byte[] pem = Base64.getDecoder().decode(caBundle);
    int i = 0;
    for (Certificate ca : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
      trust.setCertificateEntry("ca" + i++, ca);
    }
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, trustManagers.getTrustManagers(), null);
    this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
    this.uri = URI.create("https://localhost:" + port + WebhookServer.PATH);
  }

  HttpResponse<String> post(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get() throws Exception {
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Posts {@code review} and returns the AdmissionReview that came back (HTTP 200 required). */
  AdmissionReview review(AdmissionReview review) throws Exception {
    HttpResponse<String> response = post(Serialization.asJson(review));
    if (response.statusCode() != 200) {
      throw new AssertionError("webhook answered HTTP " + response.statusCode() + ": " + response.body());
    }
    return Serialization.unmarshal(response.body(), AdmissionReview.class);
  }
}
