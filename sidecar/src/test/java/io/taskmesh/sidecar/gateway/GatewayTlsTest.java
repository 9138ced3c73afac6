package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.identity.TestAuthority;
import io.taskmesh.sidecar.identity.TrustBundle;
import io.taskmesh.sidecar.identity.WorkloadCertificate;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.SecretVolume;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outside clients → the gateway's TLS (certificate and key from a mounted kubernetes.io/tls Secret) → server
 * sidecar → task-service, over real sockets: HTTP/1.1 and HTTP/2 JSON and gRPC, a renewed Secret taken without
 * dropping open connections, a bad or unreadable one refused while the pair in use stays.
 */
class GatewayTlsTest {
  private static final Duration BOUND = Duration.ofSeconds(60);

  private final MeshFixture mesh = new MeshFixture();
  private final TestAuthority authority = new TestAuthority("edge-ca");
  private SSLContext clientTls;
  private Path descriptors;
  private int upstreamPort;
  @TempDir
  Path dir;

  @BeforeEach
  void startMesh() throws Exception {
    upstreamPort = mesh.serverSidecar(mesh.backend()).inboundPort();
    descriptors = GatewayFixture.writeTaskDescriptorSet(dir);
    clientTls = SSLContext.getInstance("TLS");
    clientTls.init(null, TrustBundle.trustManagers(authority.anchors()), null);
  }

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void outsideClientsReachTheMeshOverTlsWithHttp1Http2AndGrpc() throws Exception {
    SecretVolume secret = secret(authority.serverCertificate("localhost"));
    Sidecar gateway = gateway(secret);

    HttpResponse<String> created = HttpJsonClient.overTls(gateway.gatewayPort(), clientTls, HttpClient.Version.HTTP_1_1)
        .send("POST", "/api/tasks", "{\"title\": \"over tls\", \"user_id\": 7}");
    assertThat(created.statusCode()).isEqualTo(200);
    assertThat(created.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    HttpResponse<String> listed = HttpJsonClient.overTls(gateway.gatewayPort(), clientTls, HttpClient.Version.HTTP_2)
        .send("GET", "/api/tasks?user_id=7", null);
    assertThat(listed.version()).as("h2 agreed by ALPN").isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(listed.body()).contains("over tls");

    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", gateway.gatewayPort(),
        TlsChannelCredentials.newBuilder().trustManager(TrustBundle.trustManagers(authority.anchors())).build()).build();
    try (TaskClient grpc = mesh.closeLater(new TaskClient(channel, Duration.ofSeconds(10)))) {
      assertThat(grpc.list(ListTasksRequest.newBuilder().setUserId(7).build())).hasSize(1);
    }

    try (SSLSocket tls12 = connect(gateway.gatewayPort(), "TLSv1.2")) {
      assertThat(health(tls12)).startsWith("HTTP/1.1 200");
      assertThat(tls12.getSession().getProtocol()).isEqualTo("TLSv1.2");
    }
    assertThat(GatewayFixture.plaintextAnswer(gateway.gatewayPort())).as("plaintext on the TLS port").doesNotContain("HTTP/1.1");
  }

  @Test
  void aRenewedSecretServesNewConnectionsAndOpenOnesKeepGoing() throws Exception {
    WorkloadCertificate first = authority.serverCertificate("localhost");
    SecretVolume secret = secret(first);
    Sidecar gateway = gateway(secret);
    AdminClient admin = new AdminClient(gateway.adminPort());
    SSLSocket open = mesh.closeLater(connect(gateway.gatewayPort(), "TLSv1.3"));
    assertThat(health(open)).startsWith("HTTP/1.1 200");

    WorkloadCertificate renewed = authority.serverCertificate("localhost");
    secret.update(SecretVolume.tls(renewed.chain(), renewed.key()));

    await().atMost(BOUND).until(() -> servedSerial(gateway.gatewayPort()).equals(renewed.leaf().getSerialNumber()));
    assertThat(admin.metricSum("taskmesh_gateway_tls_reloads_total", "result=\"accepted\"")).isEqualTo(1.0);
    assertThat(admin.metricSum("taskmesh_gateway_tls_certificate_not_after_seconds"))
        .isEqualTo(renewed.notAfter().getEpochSecond());
    assertThat(health(open)).as("the connection opened before the renewal").startsWith("HTTP/1.1 200");
    assertThat(((X509Certificate) open.getSession().getPeerCertificates()[0]).getSerialNumber())
        .isEqualTo(first.leaf().getSerialNumber());
  }

  @Test
  void aBadNewPairIsRefusedAndThePairInUseStays() throws Exception {
    WorkloadCertificate first = authority.serverCertificate("localhost");
    SecretVolume secret = secret(first);
    Sidecar gateway = gateway(secret);
    AdminClient admin = new AdminClient(gateway.adminPort());

    WorkloadCertificate other = authority.serverCertificate("localhost");
    secret.update(SecretVolume.tls(other.chain(), first.key()));  // a key that is not the certificate's

    await().atMost(BOUND).until(() -> admin.metricSum("taskmesh_gateway_tls_reloads_total", "result=\"rejected\"") == 1.0);
    assertThat(servedSerial(gateway.gatewayPort())).isEqualTo(first.leaf().getSerialNumber());

    Files.delete(secret.file("tls.key"));  // unreadable: refused too, once however often it is looked at
    await().atMost(BOUND).until(() -> admin.metricSum("taskmesh_gateway_tls_reloads_total", "result=\"rejected\"") == 2.0);
    assertThat(servedSerial(gateway.gatewayPort())).isEqualTo(first.leaf().getSerialNumber());
    Files.createSymbolicLink(secret.file("tls.key"), Path.of("..data", "tls.key"));

    secret.update(SecretVolume.tls(other.chain(), other.key()));
    await().atMost(BOUND).until(() -> servedSerial(gateway.gatewayPort()).equals(other.leaf().getSerialNumber()));
    assertThat(admin.metricSum("taskmesh_gateway_tls_reloads_total", "result=\"accepted\"")).isEqualTo(1.0);
    assertThat(admin.metricSum("taskmesh_gateway_tls_reloads_total", "result=\"rejected\"")).isEqualTo(2.0);
  }

  @Test
  void anUnusableCertificateOrKeyAtStartIsAConfigErrorNamingItsKey() throws Exception {
    WorkloadCertificate certificate = authority.serverCertificate("localhost");
    Map<String, String> pair = SecretVolume.tls(certificate.chain(), certificate.key());

    SecretVolume garbledKey = new SecretVolume(Files.createDirectory(dir.resolve("garbled")),
        Map.of("tls.crt", pair.get("tls.crt"), "tls.key", "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n"));
    assertThat(catchThrowableOfType(ConfigException.class, () -> gateway(garbledKey)).key())
        .isEqualTo("gateway.tls.keyFile");

    SecretVolume keyAsCertificate = new SecretVolume(Files.createDirectory(dir.resolve("swapped")),
        Map.of("tls.crt", pair.get("tls.key"), "tls.key", pair.get("tls.key")));
    ConfigException noCertificate = catchThrowableOfType(ConfigException.class, () -> gateway(keyAsCertificate));
    assertThat(noCertificate.key()).isEqualTo("gateway.tls.certFile");
    assertThat(noCertificate.getMessage()).contains(keyAsCertificate.file("tls.crt").toString(), "no PEM certificate");

    WorkloadCertificate another = authority.serverCertificate("localhost");
    SecretVolume mismatched = new SecretVolume(Files.createDirectory(dir.resolve("mismatched")),
        SecretVolume.tls(certificate.chain(), another.key()));
    assertThat(catchThrowableOfType(ConfigException.class, () -> gateway(mismatched)).getMessage())
        .contains("gateway.tls.keyFile", "does not belong to the certificate");
  }

  private SecretVolume secret(WorkloadCertificate certificate) throws IOException {
    return new SecretVolume(Files.createDirectories(dir.resolve("tls")),
        SecretVolume.tls(certificate.chain(), certificate.key()));
  }

  private Sidecar gateway(SecretVolume secret) {
    return mesh.sidecar(MeshConfigParser.parse(GatewayFixture.yaml(descriptors, "{requestsPerMinute: 100000}", upstreamPort)
        + "  tls: {certFile: \"%s\", keyFile: \"%s\"}\n".formatted(secret.file("tls.crt"), secret.file("tls.key"))));
  }

  private SSLSocket connect(int port, String protocol) throws IOException {
    SSLSocket socket = (SSLSocket) clientTls.getSocketFactory().createSocket("localhost", port);
    socket.setSoTimeout((int) BOUND.toMillis());
    socket.setEnabledProtocols(new String[] {protocol});
    socket.startHandshake();
    return socket;
  }

  /** The serial of the certificate a new connection is served. */
  private BigInteger servedSerial(int port) throws IOException {
    try (SSLSocket socket = connect(port, "TLSv1.3")) {
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  /** {@code GET /health} on a kept-alive connection: the status line and headers of the answer, its body read. */
  private static String health(Socket socket) throws IOException {
    socket.getOutputStream().write("GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
    }
    String headers = head.toString(StandardCharsets.US_ASCII);
    int length = headers.lines().filter(line -> line.toLowerCase().startsWith("content-length:"))
        .mapToInt(line -> Integer.parseInt(line.substring(line.indexOf(':') + 1).trim())).findFirst().orElse(0);
    in.readNBytes(length);
    return headers;
  }

}
