package io.taskmesh.sidecar.gateway;

import io.netty.handler.ssl.ClientAuth;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.GatewayTlsConfig;
import io.taskmesh.sidecar.identity.TrustBundle;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The check of outside clients' certificates ({@code gateway.tls.clientAuth}): standard PKIX validation against the
 * configured CAs (chain, validity, key usage; host names play no part). A refused chain is thrown as
 * {@link UntrustedClientCertificate}, so the gateway can tell this refusal from other failed handshakes.
 */
final class EdgeClientTrust extends X509ExtendedTrustManager {
  static final String CA_KEY = "gateway.tls.clientAuth.caFile";

  /** The client's chain does not lead to a configured CA (or is expired, or not for client authentication). */
  static final class UntrustedClientCertificate extends CertificateException {
    UntrustedClientCertificate(X509Certificate[] chain, CertificateException cause) {
      super("client certificate " + describe(chain) + " refused: " + cause.getMessage(), cause);
    }

    private static String describe(X509Certificate[] chain) {
      if (chain == null || chain.length == 0) {
        return "(none)";
      }
      String subject = chain[0].getSubjectX500Principal().getName();
      return (subject.isEmpty() ? "" : "'" + subject + "' ") + "serial " + chain[0].getSerialNumber().toString(16)
          + " issued by '" + chain[0].getIssuerX500Principal().getName() + "'";
    }
  }

  private final GatewayTlsConfig.ClientAuth config;
  private final List<X509Certificate> authorities;
  private final X509ExtendedTrustManager pkix;

  private EdgeClientTrust(GatewayTlsConfig.ClientAuth config, List<X509Certificate> authorities) {
    this.config = config;
    this.authorities = List.copyOf(authorities);
    this.pkix = (X509ExtendedTrustManager) TrustBundle.trustManagers(authorities)[0];
  }

  /**
   * @param pem the contents of {@code gateway.tls.clientAuth.caFile}
   * @throws ConfigException naming {@code gateway.tls.clientAuth.caFile} when it holds no certificate, or only expired
   *     ones
   */
  static EdgeClientTrust of(GatewayTlsConfig.ClientAuth config, byte[] pem, Instant now) {
    List<X509Certificate> authorities = EdgeCertificate.certificates(CA_KEY, config.caFile(), pem);
    if (authorities.stream().allMatch(ca -> ca.getNotAfter().toInstant().isBefore(now))) {
      throw new ConfigException(CA_KEY, config.caFile() + ": every certificate in it has expired");
    }
    return new EdgeClientTrust(config, authorities);
  }

  ClientAuth clientAuth() {
    return config.mode() == GatewayTlsConfig.ClientAuthMode.REQUIRE ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL;
  }

  String describe() {
    return config.mode().name().toLowerCase(Locale.ROOT) + " " + authorities.stream()
        .map(ca -> ca.getSubjectX500Principal().getName()).toList();
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    try {
      pkix.checkClientTrusted(chain, authType, engine);
    } catch (CertificateException e) {
      throw new UntrustedClientCertificate(chain, e);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    try {
      pkix.checkClientTrusted(chain, authType, socket);
    } catch (CertificateException e) {
      throw new UntrustedClientCertificate(chain, e);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    try {
      pkix.checkClientTrusted(chain, authType);
    } catch (CertificateException e) {
      throw new UntrustedClientCertificate(chain, e);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("the gateway's client trust checks clients only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("the gateway's client trust checks clients only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("the gateway's client trust checks clients only");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return authorities.toArray(X509Certificate[]::new);
  }
}
