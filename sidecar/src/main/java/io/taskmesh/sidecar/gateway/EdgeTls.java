package io.taskmesh.sidecar.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.GatewayTlsConfig;
import io.taskmesh.sidecar.config.WatchedFiles;
import io.taskmesh.sidecar.identity.MeshTls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
 * ({@link EdgeClientTrust}), a client refused in the handshake with a TLS alert; with
 * {@code gateway.tls.certificates}, the certificate chosen by the server name the client asks for (SNI). The
 * certificate, key and CA files
 * are watched: a new valid set is used for the connections that start from then on (those open keep theirs, none
 * is dropped); a bad new set is refused with a log line and {@code taskmesh_gateway_tls_reloads_total{result=
 * "rejected"}}, and the set in use stays. Each failed handshake counts in
 * {@code taskmesh_gateway_tls_handshake_failures_total{reason}}: {@code client_certificate_missing},
 * {@code client_certificate_untrusted} or {@code other}.
 */
final class EdgeTls implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EdgeTls.class);
  private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
  /** As long as an SslHandler's own default: a client that names no server in time is let go. */
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
  /** How BoringSSL and the JDK's engine say that a client sent no certificate where one was required. */
  private static final List<String> MISSING_CLIENT_CERTIFICATE =
      List.of("PEER_DID_NOT_RETURN_A_CERTIFICATE", "Empty client certificate chain");
  private static final ApplicationProtocolConfig H2_OR_HTTP1 = new ApplicationProtocolConfig(
      ApplicationProtocolConfig.Protocol.ALPN,
      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
      ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

  /**
   * The set in use: the default certificate and its context, the client trust, and with more certificates the
   * context of each server name (null without them); {@code served} lists every certificate, the default first.
   */
  private record InUse(EdgeCertificate certificate, Optional<EdgeClientTrust> clients, SslContext context,
      Mapping<String, SslContext> byServerName, List<EdgeCertificate> served) {}

  /** A file the set is read from, and the config key that names it. */
  private record SourceFile(Path path, String key) {}

  /** Why a handshake failed, as {@code taskmesh_gateway_tls_handshake_failures_total{reason}} says it. */
  enum HandshakeFailure {
    CLIENT_CERTIFICATE_MISSING, CLIENT_CERTIFICATE_UNTRUSTED, OTHER;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final GatewayTlsConfig config;
  private final List<SourceFile> sources = new ArrayList<>();
  private final Clock clock;
  private final AtomicReference<InUse> current = new AtomicReference<>();
  private final MeterRegistry registry;
  private final WatchedFiles watch;

  /**
   * Reads and checks the set now, then watches its files every {@code interval}.
   *
   * @throws ConfigException naming the key of the file ({@code gateway.tls.certFile}, {@code keyFile},
   *     {@code clientAuth.caFile}, {@code certificates[i].certFile} ...) that cannot be read or used
   */
  EdgeTls(GatewayTlsConfig config, Duration interval, MeterRegistry registry, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.registry = registry;
    sources.add(new SourceFile(Path.of(config.certFile()), EdgeCertificate.CERT_KEY));
    sources.add(new SourceFile(Path.of(config.keyFile()), EdgeCertificate.KEY_KEY));
    if (config.clientAuth() != null) {
      sources.add(new SourceFile(Path.of(config.clientAuth().caFile()), EdgeClientTrust.CA_KEY));
    }
    for (int i = 0; i < config.certificates().size(); i++) {
      sources.add(new SourceFile(Path.of(config.certificates().get(i).certFile()), pairKey(i) + ".certFile"));
      sources.add(new SourceFile(Path.of(config.certificates().get(i).keyFile()), pairKey(i) + ".keyFile"));
    }
    List<byte[]> contents = sources.stream().map(EdgeTls::readNow).toList();
    current.set(build(contents));
    Gauge.builder("taskmesh.gateway.tls.certificate.not.after", current,
            inUse -> inUse.get().served().stream().mapToLong(served -> served.leaf().getNotAfter().getTime())
                .min().orElseThrow() / 1000.0)
        .baseUnit("seconds")
        .description("When the first of the certificates the gateway presents to clients expires (Unix time)")
        .register(registry);
    log.info("event=gateway_tls_loaded cert_file={} serial={} not_after={} client_auth={} server_names={}",
        config.certFile(), current.get().certificate().serial(),
        current.get().certificate().leaf().getNotAfter().toInstant(),
        current.get().clients().map(EdgeClientTrust::describe).orElse("off"),
        config.certificates().stream().flatMap(entry -> entry.serverNames().stream()).toList());
    watch = new WatchedFiles("gateway-tls", sources.stream().map(SourceFile::path).toList(), contents, interval,
        this::reload, this::unreadable);
  }

  private static String pairKey(int index) {
    return "gateway.tls.certificates[" + index + "]";
  }

  /**
   * A handler for one new client connection, with the set in use now; a failed handshake is counted. With more
   * certificates, Netty's SniHandler reads the server name of the client's hello and puts in the SslHandler of its
   * certificate (the default one when the client names none, or one no entry lists).
   */
  ChannelHandler newHandler(ByteBufAllocator alloc) {
    InUse inUse = current.get();
    if (inUse.byServerName() == null) {
      return counted(inUse.context().newHandler(alloc));
    }
    return new SniHandler(inUse.byServerName(), HANDSHAKE_TIMEOUT.toMillis()) {
      @Override
      protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
        return counted(super.newSslHandler(context, allocator));
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        handshakeFailed(cause);  // before any SslHandler: not TLS at all, or a hello too long to read
        super.exceptionCaught(ctx, cause);
      }
    };
  }

  private SslHandler counted(SslHandler handler) {
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

  /** The whole set from the files' contents (in the order of {@link #sources}), or the first fault in it. */
  private InUse build(List<byte[]> contents) {
    Instant now = clock.instant();
    Optional<EdgeClientTrust> clients = Optional.ofNullable(config.clientAuth())
        .map(clientAuth -> EdgeClientTrust.of(clientAuth, contents.get(2), now));
    EdgeCertificate certificate = EdgeCertificate.parse(EdgeCertificate.DEFAULT_PAIR, config.certFile(),
        contents.get(0), config.keyFile(), contents.get(1), now);
    SslContext context = context(EdgeCertificate.DEFAULT_PAIR, config.certFile(), certificate, clients);
    if (config.certificates().isEmpty()) {
      return new InUse(certificate, clients, context, null, List.of(certificate));
    }
    List<EdgeCertificate> served = new ArrayList<>(List.of(certificate));
    DomainWildcardMappingBuilder<SslContext> byServerName = new DomainWildcardMappingBuilder<>(context);
    int first = clients.isPresent() ? 3 : 2;
    for (int i = 0; i < config.certificates().size(); i++) {
      GatewayTlsConfig.ServerCertificate entry = config.certificates().get(i);
      EdgeCertificate extra = EdgeCertificate.parse(pairKey(i), entry.certFile(), contents.get(first + 2 * i),
          entry.keyFile(), contents.get(first + 2 * i + 1), now);
      for (String name : entry.serverNames()) {
        if (!extra.covers(name)) {
          throw new ConfigException(pairKey(i) + ".serverNames", "'" + name + "' is not a DNS name of the"
              + " certificate of " + entry.certFile() + " (" + extra.leaf().getSubjectX500Principal().getName() + ")");
        }
      }
      SslContext extraContext = context(pairKey(i), entry.certFile(), extra, clients);
      entry.serverNames().forEach(name -> byServerName.add(name, extraContext));
      served.add(extra);
    }
    return new InUse(certificate, clients, context, byServerName.build(), served);
  }

  private static SslContext context(String pair, String certFile, EdgeCertificate certificate,
      Optional<EdgeClientTrust> clients) {
    try {
      SslContextBuilder builder = SslContextBuilder.forServer(certificate.key(), certificate.chain())
          .sslProvider(MeshTls.preferredProvider())
          .protocols(PROTOCOLS)
          .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
          .applicationProtocolConfig(H2_OR_HTTP1);
      clients.ifPresent(trust -> builder.clientAuth(trust.clientAuth()).trustManager(trust));
      return builder.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new ConfigException(pair + ".certFile", certFile + ": cannot serve TLS with this pair ("
          + e.getMessage() + ")");
    }
  }

  private static byte[] readNow(SourceFile file) {
    try {
      return Files.readAllBytes(file.path());
    } catch (IOException e) {
      throw new ConfigException(file.key(), "cannot read " + file.path() + ": " + e);
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
