package io.taskmesh.sidecar.identity;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeTrustManager;
import java.time.Clock;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLException;
import org.slf4j.LoggerFactory;

/**
 * The TLS contexts of one certificate: the server side (inbound, client certificate required) and the
 * client side (to other sidecars). TLS 1.3 only, ALPN h2 only, peers checked by {@link SpiffeTrustManager}.
 * Contexts are immutable: a new certificate means new contexts ({@link MeshTlsContexts}).
 */
public record MeshTls(SslContext server, SslContext client, WorkloadCertificate certificate) {
  public static final String TLS_1_3 = "TLSv1.3";
  static final ApplicationProtocolConfig H2_ONLY = new ApplicationProtocolConfig(
      ApplicationProtocolConfig.Protocol.ALPN,
      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
      ApplicationProtocolNames.HTTP_2);

  /** The system property that picks the TLS engine of mesh connections: {@code boringssl} or {@code jdk}. */
  public static final String ENGINE_PROPERTY = "taskmesh.tls.engine";

  /**
   * The engine of the {@value #ENGINE_PROPERTY} system property (e.g. {@code -Dtaskmesh.tls.engine=jdk} in
   * {@code JAVA_TOOL_OPTIONS}); unset, BoringSSL, which measured cheaper per request and per handshake
   * (bench/README.md, TLS engine), or the JDK's where the native library does not load.
   */
  public static SslProvider preferredProvider() {
    SslProvider provider = provider(System.getProperty(ENGINE_PROPERTY, ""),
        () -> SslProvider.isAlpnSupported(SslProvider.OPENSSL));
    LoggerFactory.getLogger(MeshTls.class).info("event=tls_engine engine={}",
        provider == SslProvider.OPENSSL ? "boringssl" : "jdk");
    return provider;
  }

  /**
   * The engine a setting names; blank means BoringSSL when {@code boringSslLoads}, else the JDK's. With
   * {@code jdk} the native library is not even tried, so it costs no memory.
   *
   * @throws IllegalArgumentException for another name, or {@code boringssl} where it does not load
   */
  static SslProvider provider(String setting, BooleanSupplier boringSslLoads) {
    return switch (setting.trim().toLowerCase(Locale.ROOT)) {
      case "" -> boringSslLoads.getAsBoolean() ? SslProvider.OPENSSL : SslProvider.JDK;
      case "jdk" -> SslProvider.JDK;
      case "boringssl" -> {
        if (!boringSslLoads.getAsBoolean()) {
          throw new IllegalArgumentException(ENGINE_PROPERTY + "=boringssl, but netty-tcnative's BoringSSL does not "
              + "load on this platform (" + System.getProperty("os.arch") + "); use jdk");
        }
        yield SslProvider.OPENSSL;
      }
      default -> throw new IllegalArgumentException(ENGINE_PROPERTY + ": \"" + setting + "\" is not a TLS engine; "
          + "expected boringssl or jdk");
    };
  }

  /** Whether a finished handshake agreed on h2; a mesh connection without it is closed. */
  public static boolean negotiatedH2(SslHandler handler) {
    return ApplicationProtocolNames.HTTP_2.equals(handler.applicationProtocol());
  }

  public static MeshTls of(WorkloadCertificate certificate, String trustDomain, Clock clock, SslProvider provider) {
    SpiffeTrustManager trust = new SpiffeTrustManager(
        new PeerVerifier(certificate.trustAnchors(), trustDomain, clock));
    try {
      SslContext server = SslContextBuilder.forServer(certificate.key(), certificate.chain())
          .sslProvider(provider)
          .protocols(TLS_1_3)
          .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
          .applicationProtocolConfig(H2_ONLY)
          .clientAuth(ClientAuth.REQUIRE)
          .trustManager(trust)
          .build();
      SslContext client = SslContextBuilder.forClient()
          .sslProvider(provider)
          .keyManager(certificate.key(), certificate.chain())
          .protocols(TLS_1_3)
          .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
          .applicationProtocolConfig(H2_ONLY)
          .trustManager(trust)
          .endpointIdentificationAlgorithm(null)  // the peer's SPIFFE ID is checked, not a host name
          .build();
      return new MeshTls(server, client, certificate);
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build TLS contexts for " + certificate + " with " + provider + ": "
          + e.getMessage(), e);
    }
  }
}
