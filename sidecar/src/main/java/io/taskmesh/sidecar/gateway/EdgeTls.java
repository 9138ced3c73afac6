package io.taskmesh.sidecar.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.GatewayTlsConfig;
import io.taskmesh.sidecar.config.WatchedFiles;
import io.taskmesh.sidecar.identity.MeshTls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS the gateway terminates for outside clients: TLS 1.2 or 1.3, ALPN {@code h2} (gRPC, HTTP/2 JSON) or
 * {@code http/1.1}; with {@code gateway.tls.clientAuth}, client certificates checked against its CA
 * ({@link EdgeClientTrust}), a client refused in the handshake with a TLS alert. The certificate, key and CA files
 * are watched: a new valid set is used for the connections that start from then on (those open keep theirs, none
 * is dropped); a bad new set is refused with a log line and {@code taskmesh_gateway_tls_reloads_total{result=
 * "rejected"}}, and the set in use stays. Each failed handshake counts in
 * {@code taskmesh_gateway_tls_handshake_failures_total{reason}}: {@code client_certificate_missing},
 * {@code client_certificate_untrusted} or {@code other}.
 */
final class EdgeTls implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EdgeTls.class);
  private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
  /** How BoringSSL and the JDK's engine say that a client sent no certificate where one was required. */
  private static final List<String> MISSING_CLIENT_CERTIFICATE =
      List.of("PEER_DID_NOT_RETURN_A_CERTIFICATE", "Empty client certificate chain");
  private static final ApplicationProtocolConfig H2_OR_HTTP1 = new ApplicationProtocolConfig(
      ApplicationProtocolConfig.Protocol.ALPN,
      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
      ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

  private record InUse(EdgeCertificate certificate, Optional<EdgeClientTrust> clients, SslContext context) {}

  /** Why a handshake failed, as {@code taskmesh_gateway_tls_handshake_failures_total{reason}} says it. */
  enum HandshakeFailure {
    CLIENT_CERTIFICATE_MISSING, CLIENT_CERTIFICATE_UNTRUSTED, OTHER;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final GatewayTlsConfig config;
  private final Clock clock;
  private final AtomicReference<InUse> current = new AtomicReference<>();
  private final MeterRegistry registry;
  private final WatchedFiles watch;

  /**
   * Reads and checks the pair now, then watches both files every {@code interval}.
   *
   * @throws ConfigException naming {@code gateway.tls.certFile} or {@code gateway.tls.keyFile} when its file
   *     cannot be read or used
   */
  EdgeTls(GatewayTlsConfig config, Duration interval, MeterRegistry registry, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.registry = registry;
    List<Path> files = new ArrayList<>(List.of(Path.of(config.certFile()), Path.of(config.keyFile())));
    if (config.clientAuth() != null) {
      files.add(Path.of(config.clientAuth().caFile()));
    }
    List<byte[]> contents = readNow(files);
    current.set(build(contents));
    Gauge.builder("taskmesh.gateway.tls.certificate.not.after", current,
            inUse -> inUse.get().certificate().leaf().getNotAfter().getTime() / 1000.0)
        .baseUnit("seconds")
        .description("When the certificate the gateway presents to clients expires (Unix time)")
        .register(registry);
    log.info("event=gateway_tls_loaded cert_file={} serial={} not_after={} client_auth={}", config.certFile(),
        current.get().certificate().serial(), current.get().certificate().leaf().getNotAfter().toInstant(),
        current.get().clients().map(EdgeClientTrust::describe).orElse("off"));
    watch = new WatchedFiles("gateway-tls", files, contents, interval, this::reload, this::unreadable);
  }

  /** A handler for one new client connection, with the set in use now; a failed handshake is counted. */
  SslHandler newHandler(ByteBufAllocator alloc) {
    SslHandler handler = current.get().context().newHandler(alloc);
    handler.handshakeFuture().addListener(handshake -> {
      if (!handshake.isSuccess()) {
        handshakeFailed(handshake.cause());
      }
    });
    return handler;
  }

  private void handshakeFailed(Throwable cause) {
    HandshakeFailure failure = failureOf(cause);
    Counter.builder("taskmesh.gateway.tls.handshake.failures").tag("reason", failure.label())
        .description("TLS handshakes with outside clients that failed, by reason").register(registry).increment();
    if (failure == HandshakeFailure.OTHER) {
      log.debug("event=gateway_tls_handshake_failed error=\"{}\"", cause.toString());
    } else {
      log.info("event=gateway_tls_client_refused reason={} error=\"{}\"", failure.label(), why(cause));
    }
  }

  /** The refused certificate and why, when the client trust refused one; the engine's words otherwise. */
  private static String why(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof EdgeClientTrust.UntrustedClientCertificate) {
        return t.getMessage();
      }
    }
    return cause.getMessage();
  }

  /**
   * A refusal by {@link EdgeClientTrust} is found in the cause; a missing certificate is told by the TLS engine's
   * own words for it (BoringSSL's error name, the JDK's message), as neither gives it a type.
   */
  private HandshakeFailure failureOf(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof EdgeClientTrust.UntrustedClientCertificate) {
        return HandshakeFailure.CLIENT_CERTIFICATE_UNTRUSTED;
      }
      String message = String.valueOf(t.getMessage());
      if (config.clientAuth() != null && MISSING_CLIENT_CERTIFICATE.stream().anyMatch(message::contains)) {
        return HandshakeFailure.CLIENT_CERTIFICATE_MISSING;
      }
    }
    return HandshakeFailure.OTHER;
  }

  private void reload(List<byte[]> contents) {
    InUse old = current.get();
    try {
      InUse fresh = build(contents);
      current.set(fresh);
      reloads("accepted").increment();
      log.info("event=gateway_tls_reloaded serial={} not_after={} previous_serial={}", fresh.certificate().serial(),
          fresh.certificate().leaf().getNotAfter().toInstant(), old.certificate().serial());
    } catch (ConfigException e) {
      reloads("rejected").increment();
      log.error("event=gateway_tls_rejected key={} error=\"{}\" (keeping the certificate in use, serial={})", e.key(),
          e.getMessage(), old.certificate().serial());
    }
  }

  private void unreadable(IOException e) {
    reloads("rejected").increment();
    log.error("event=gateway_tls_unreadable error=\"{}\" (keeping the certificate in use, serial={})", e,
        current.get().certificate().serial());
  }

  private InUse build(List<byte[]> contents) {
    EdgeCertificate certificate = EdgeCertificate.parse(config.certFile(), contents.get(0), config.keyFile(),
        contents.get(1), clock.instant());
    try {
      SslContextBuilder builder = SslContextBuilder.forServer(certificate.key(), certificate.chain())
          .sslProvider(MeshTls.preferredProvider())
          .protocols(PROTOCOLS)
          .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
          .applicationProtocolConfig(H2_OR_HTTP1);
      Optional<EdgeClientTrust> clients = Optional.ofNullable(config.clientAuth())
          .map(clientAuth -> EdgeClientTrust.of(clientAuth, contents.get(2), clock.instant()));
      clients.ifPresent(trust -> builder.clientAuth(trust.clientAuth()).trustManager(trust));
      return new InUse(certificate, clients, builder.build());
    } catch (SSLException | IllegalArgumentException e) {
      throw new ConfigException(EdgeCertificate.CERT_KEY, config.certFile() + " with " + config.keyFile()
          + ": cannot serve TLS with this pair (" + e.getMessage() + ")");
    }
  }

  private static List<byte[]> readNow(List<Path> files) {
    List<String> keys = List.of(EdgeCertificate.CERT_KEY, EdgeCertificate.KEY_KEY, EdgeClientTrust.CA_KEY);
    List<byte[]> contents = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      contents.add(readNow(files.get(i), keys.get(i)));
    }
    return contents;
  }

  private static byte[] readNow(Path file, String key) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ConfigException(key, "cannot read " + file + ": " + e);
    }
  }

  private Counter reloads(String result) {
    return Counter.builder("taskmesh.gateway.tls.reloads").tag("result", result)
        .description("New certificate/key pairs seen in the gateway's TLS files, taken or refused").register(registry);
  }

  @Override
  public void close() {
    watch.close();
  }
}
