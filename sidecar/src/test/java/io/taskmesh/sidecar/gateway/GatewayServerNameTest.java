package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.taskmesh.config.ConfigException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.identity.TestAuthority;
import io.taskmesh.sidecar.identity.TrustBundle;
import io.taskmesh.sidecar.identity.WorkloadCertificate;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.SecretVolume;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outside clients asking for different server names (SNI) → the gateway's TLS with {@code gateway.tls.certificates}
 * → the mesh, over real sockets with the JDK's TLS client: each name gets its certificate (an exact name, a
 * {@code *.domain}), a name no entry lists and a client naming none get the default, a renewed Secret of one name
 * serves the next handshakes, and a name its certificate does not cover stops the start naming the key.
 */
class GatewayServerNameTest {
  private static final Duration BOUND = Duration.ofSeconds(60);

  private final MeshFixture mesh = new MeshFixture();
  private final TestAuthority authority = new TestAuthority("edge-ca");
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
  void eachServerNameGetsItsCertificateAndAnyOtherTheDefault() throws Exception {
    WorkloadCertificate fallback = authority.serverCertificate("localhost");
    WorkloadCertificate api = authority.serverCertificate("api.example.com");
    WorkloadCertificate shops = authority.serverCertificate("*.shops.example.org");
    SecretVolume apiSecret = secret("api", api);
    Sidecar gateway = gateway(secret("default", fallback), List.of(
        entry("[api.example.com]", apiSecret), entry("['*.shops.example.org']", secret("shops", shops))));
    AdminClient admin = new AdminClient(gateway.adminPort());

    assertThat(served(gateway.gatewayPort(), "api.example.com")).isEqualTo(serial(api));
    assertThat(served(gateway.gatewayPort(), "corner.shops.example.org")).isEqualTo(serial(shops));
    assertThat(served(gateway.gatewayPort(), "other.example.net")).as("a name no entry lists").isEqualTo(serial(fallback));
    assertThat(served(gateway.gatewayPort(), null)).as("no server name").isEqualTo(serial(fallback));
    assertThat(health(gateway.gatewayPort(), "api.example.com")).startsWith("HTTP/1.1 200");
    assertThat(health(gateway.gatewayPort(), "corner.shops.example.org")).startsWith("HTTP/1.1 200");

    WorkloadCertificate renewed = authority.serverCertificate("api.example.com");
    apiSecret.update(SecretVolume.tls(renewed.chain(), renewed.key()));
    await().atMost(BOUND).until(() -> served(gateway.gatewayPort(), "api.example.com").equals(serial(renewed)));
    assertThat(served(gateway.gatewayPort(), null)).isEqualTo(serial(fallback));
    assertThat(admin.metricSum("taskmesh_gateway_tls_reloads_total", "result=\"accepted\"")).isEqualTo(1.0);

    assertThat(GatewayFixture.plaintextAnswer(gateway.gatewayPort())).as("plaintext on the TLS port").isEmpty();
    await().atMost(BOUND).until(() ->
        admin.metricSum("taskmesh_gateway_tls_handshake_failures_total", "reason=\"other\"") == 1.0);
  }

  @Test
  void aServerNameItsCertificateDoesNotCoverStopsTheStartNamingTheKey() throws Exception {
    SecretVolume fallback = secret("default", authority.serverCertificate("localhost"));
    SecretVolume api = secret("api", authority.serverCertificate("api.example.com"));

    ConfigException refused = catchThrowableOfType(ConfigException.class,
        () -> gateway(fallback, List.of(entry("[api.example.com, www.example.com]", api))));

    assertThat(refused.key()).isEqualTo("gateway.tls.certificates[0].serverNames");
    assertThat(refused.getMessage()).contains("www.example.com", api.file("tls.crt").toString());
  }

  private SecretVolume secret(String name, WorkloadCertificate certificate) throws IOException {
    return new SecretVolume(Files.createDirectories(dir.resolve(name)),
        SecretVolume.tls(certificate.chain(), certificate.key()));
  }

  private static String entry(String serverNames, SecretVolume secret) {
    return "{serverNames: %s, certFile: \"%s\", keyFile: \"%s\"}".formatted(serverNames, secret.file("tls.crt"),
        secret.file("tls.key"));
  }

  private Sidecar gateway(SecretVolume fallback, List<String> entries) {
    return mesh.sidecar(MeshConfigParser.parse(GatewayFixture.yaml(descriptors, "{requestsPerMinute: 100000}", upstreamPort)
        + "  tls: {certFile: \"%s\", keyFile: \"%s\", certificates: [%s]}\n".formatted(fallback.file("tls.crt"),
            fallback.file("tls.key"), String.join(", ", entries))));
  }

  /**
   * A TLS 1.3 connection to 127.0.0.1 asking for {@code serverName} (none if null), its handshake done, from a client
   * of its own: the JDK keeps sessions by address and port, and would resume one made for another name (RFC 8446
   * lets a client do so when the name is valid for the first certificate, which this client does not check).
   */
  private SSLSocket connect(int port, String serverName) throws IOException {
    SSLContext client;
    try {
      client = SSLContext.getInstance("TLS");
      client.init(null, TrustBundle.trustManagers(authority.anchors()), null);
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
    SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", port);
    socket.setSoTimeout((int) BOUND.toMillis());
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setProtocols(new String[] {"TLSv1.3"});
    parameters.setServerNames(serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    return socket;
  }

  private BigInteger served(int port, String serverName) throws IOException {
    try (SSLSocket socket = connect(port, serverName)) {
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  private String health(int port, String serverName) throws IOException {
    try (SSLSocket socket = connect(port, serverName)) {
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readNBytes(15), StandardCharsets.US_ASCII);
    }
  }

  private static BigInteger serial(WorkloadCertificate certificate) {
    return certificate.leaf().getSerialNumber();
  }
}
