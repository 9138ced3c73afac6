package io.taskmesh.operator.identity;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.identity.v1.CertifyRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** A sidecar's side of the issuer, as tests need it: TLS trusting only the anchors, by the Service's name. */
public final class IssuerClients {
  private IssuerClients() {}

  public static ManagedChannel channelTrusting(List<X509Certificate> anchors, int port) {
    try {
      TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(
          new ByteArrayInputStream(Pem.certificates(anchors).getBytes(StandardCharsets.US_ASCII)));
      return NettyChannelBuilder.forAddress("127.0.0.1", port, tls.build())
          .overrideAuthority("taskmesh-operator.taskmesh-system.svc").build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static CertifyRequest request(byte[] csr, String token) {
    return CertifyRequest.newBuilder().setCsr(ByteString.copyFrom(csr)).setToken(token).build();
  }

  public static List<X509Certificate> certificates(List<ByteString> ders) throws CertificateException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> certificates = new ArrayList<>();
    for (ByteString der : ders) {
      certificates.add((X509Certificate) factory.generateCertificate(der.newInput()));
    }
    return certificates;
  }
}
