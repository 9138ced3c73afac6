package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.identity.TestAuthority;
import io.taskmesh.sidecar.identity.TrustBundle;
import io.taskmesh.sidecar.identity.WorkloadCertificate;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.SecretVolume;
import java.io.IOException;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.Socket;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outside clients with and without certificates → the gateway's TLS with {@code gateway.tls.clientAuth} → the mesh,
 * over real sockets with the JDK's TLS client: a client certified by the configured CA gets in, one without a
 * certificate (when required) or certified by another CA gets a TLS alert, each refusal counted by its reason; a
 * new CA file applies to the next handshakes.
 */
class GatewayClientCertificateTest {
  private static final Duration BOUND = Duration.ofSeconds(60);
  private static final String HANDSHAKE_FAILURES = "taskmesh_gateway_tls_handshake_failures_total";

  private final MeshFixture mesh = new MeshFixture();
  private final TestAuthority edge = new TestAuthority("edge-ca");
  private final TestAuthority partners = new TestAuthority("partners-ca");
  private final TestAuthority strangers = new TestAuthority("strangers-ca");
  private Path descriptors;
  private int upstreamPort;
  @TempDir
  Path dir;

  @BeforeEach
  void startMesh() {
    upstreamPort = mesh.serverSidecar(mesh.backend()).inboundPort();
    descriptors = GatewayFixture.writeTaskDescriptorSet(dir);
  }

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void aRequiredClientCertificateLetsInOnlyClientsCertifiedByTheConfiguredCa() throws Exception {
    SecretVolume clientCa = caVolume(partners);
    Sidecar gateway = gateway("require", clientCa);
    AdminClient admin = new AdminClient(gateway.adminPort());
    SSLContext partner = client(partners);

    HttpResponse<String> created = HttpJsonClient.overTls(gateway.gatewayPort(), partner, HttpClient.Version.HTTP_2)
        .send("POST", "/api/tasks", "{\"title\": \"from a partner\", \"user_id\": 5}");
    assertThat(created.statusCode()).isEqualTo(200);
    assertThat(answer(gateway.gatewayPort(), partner)).startsWith("HTTP/1.1 200");

    assertThat(refusal(gateway.gatewayPort(), client(null))).as("no certificate").contains("fatal alert");
    await().atMost(BOUND).until(() -> admin.metricSum(HANDSHAKE_FAILURES, "reason=\"client_certificate_missing\"") == 1.0);

    assertThat(refusal(gateway.gatewayPort(), client(strangers))).as("certified by another CA").contains("fatal alert");
    await().atMost(BOUND).until(() -> admin.metricSum(HANDSHAKE_FAILURES, "reason=\"client_certificate_untrusted\"") == 1.0);

    clientCa.update(Map.of("ca.crt", pem(strangers)));  // the CA ConfigMap changed: the next handshakes use it
    await().atMost(BOUND).until(() -> answer(gateway.gatewayPort(), client(strangers)).startsWith("HTTP/1.1 200"));
    assertThat(refusal(gateway.gatewayPort(), partner)).as("no longer certified by the CA").contains("fatal alert");
    assertThat(admin.metricSum("taskmesh_gateway_tls_reloads_total", "result=\"accepted\"")).isEqualTo(1.0);
    assertThat(admin.metricSum(HANDSHAKE_FAILURES, "reason=\"other\"")).isZero();
  }

  @Test
  void anOptionalClientCertificateLetsInClientsWithoutOneButNotThoseCertifiedByAnotherCa() throws Exception {
    Sidecar gateway = gateway("optional", caVolume(partners));
    AdminClient admin = new AdminClient(gateway.adminPort());

    assertThat(answer(gateway.gatewayPort(), client(null))).as("no certificate").startsWith("HTTP/1.1 200");
    assertThat(answer(gateway.gatewayPort(), client(partners))).startsWith("HTTP/1.1 200");
    assertThat(refusal(gateway.gatewayPort(), client(strangers))).as("certified by another CA").contains("fatal alert");
    await().atMost(BOUND).until(() -> admin.metricSum(HANDSHAKE_FAILURES, "reason=\"client_certificate_untrusted\"") == 1.0);
    assertThat(admin.metricSum(HANDSHAKE_FAILURES, "reason=\"client_certificate_missing\"")).isZero();
  }

  private SecretVolume caVolume(TestAuthority authority) throws IOException {
    return new SecretVolume(Files.createDirectories(dir.resolve("client-ca")), Map.of("ca.crt", pem(authority)));
  }

  private Sidecar gateway(String mode, SecretVolume clientCa) throws IOException {
    WorkloadCertificate serving = edge.serverCertificate("localhost");
    SecretVolume tls = new SecretVolume(Files.createDirectories(dir.resolve("tls")),
        SecretVolume.tls(serving.chain(), serving.key()));
    return mesh.sidecar(MeshConfigParser.parse(GatewayFixture.yaml(descriptors, "{requestsPerMinute: 100000}", upstreamPort)
        + "  tls: {certFile: \"%s\", keyFile: \"%s\", clientAuth: {mode: %s, caFile: \"%s\"}}\n".formatted(
            tls.file("tls.crt"), tls.file("tls.key"), mode, clientCa.file("ca.crt"))));
  }

  /**
   * A client trusting the gateway's certificate, presenting one certified by {@code authority} (none if null) even
   * when the gateway names other CAs in its request (the JDK would otherwise send none).
   */
  private SSLContext client(TestAuthority authority) throws Exception {
    KeyManager[] keys = null;
    if (authority != null) {
      WorkloadCertificate certificate = authority.certificate(new SpiffeId("partner.example", "outside", "client"),
          Duration.ofHours(1));
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("client", certificate.key(), new char[0], certificate.chain().toArray(X509Certificate[]::new));
      KeyManagerFactory factory = KeyManagerFactory.getInstance("SunX509");
      factory.init(store, new char[0]);
      keys = new KeyManager[] {new AlwaysPresent((X509ExtendedKeyManager) factory.getKeyManagers()[0])};
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys, TrustBundle.trustManagers(edge.anchors()), null);
    return context;
  }

  /** Presents its one certificate whatever the server asks for. */
  private static final class AlwaysPresent extends X509ExtendedKeyManager {
    private final X509ExtendedKeyManager keys;

    AlwaysPresent(X509ExtendedKeyManager keys) {
      this.keys = keys;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return "client";
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return "client";
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {"client"};
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return keys.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return keys.getPrivateKey(alias);
    }
  }

  /** The status line a {@code GET /health} over TLS 1.3 gets, or {@code refused: <why>} when the TLS layer failed. */
  private static String answer(int port, SSLContext client) {
    try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("localhost", port)) {
      socket.setSoTimeout((int) BOUND.toMillis());
      socket.setEnabledProtocols(new String[] {"TLSv1.3"});
      socket.startHandshake();
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      byte[] head = socket.getInputStream().readNBytes(15);
      return head.length == 0 ? "refused: closed" : new String(head, StandardCharsets.US_ASCII);
    } catch (IOException e) {  // TLS 1.3: the server's alert arrives after the client's part of the handshake
      return "refused: " + e.getMessage();
    }
  }

  /**
   * What a TLS 1.3 client that sends nothing after its part of the handshake reads first: a refused one the server's
   * alert (a client that wrote at once could instead see the reset of a connection the server had closed).
   */
  private static String refusal(int port, SSLContext client) {
    try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("localhost", port)) {
      socket.setSoTimeout((int) BOUND.toMillis());
      socket.setEnabledProtocols(new String[] {"TLSv1.3"});
      socket.startHandshake();
      return socket.getInputStream().read() < 0 ? "closed without an alert" : "not refused";
    } catch (IOException e) {
      return e.getMessage();
    }
  }

  private static String pem(TestAuthority authority) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (X509Certificate anchor : authority.anchors()) {
        writer.writeObject(anchor);
      }
    }
    return out.toString();
  }
}
