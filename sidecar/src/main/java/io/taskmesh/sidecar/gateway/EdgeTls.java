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
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS the gateway terminates for outside clients: TLS 1.2 or 1.3, ALPN {@code h2} (gRPC, HTTP/2 JSON) or
 * {@code http/1.1}, no client certificate asked for. The certificate and key files are watched: a new valid pair
 * is used for the connections that start from then on (those open keep theirs, none is dropped); a bad new pair
 * is refused with a log line and {@code taskmesh_gateway_tls_reloads_total{result="rejected"}}, and the pair in
 * use stays.
 */
final class EdgeTls implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EdgeTls.class);
  private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
  private static final ApplicationProtocolConfig H2_OR_HTTP1 = new ApplicationProtocolConfig(
      ApplicationProtocolConfig.Protocol.ALPN,
      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
      ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

  private record InUse(EdgeCertificate certificate, SslContext context) {}

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
    List<Path> files = List.of(Path.of(config.certFile()), Path.of(config.keyFile()));
    List<byte[]> contents = readNow(files);
    current.set(build(contents));
    Gauge.builder("taskmesh.gateway.tls.certificate.not.after", current,
            inUse -> inUse.get().certificate().leaf().getNotAfter().getTime() / 1000.0)
        .baseUnit("seconds")
        .description("When the certificate the gateway presents to clients expires (Unix time)")
        .register(registry);
    log.info("event=gateway_tls_loaded cert_file={} serial={} not_after={}", config.certFile(),
        current.get().certificate().serial(), current.get().certificate().leaf().getNotAfter().toInstant());
    watch = new WatchedFiles("gateway-tls", files, contents, interval, this::reload, this::unreadable);
  }

  /** A handler for one new client connection, with the pair in use now. */
  SslHandler newHandler(ByteBufAllocator alloc) {
    return current.get().context().newHandler(alloc);
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
      SslContext context = SslContextBuilder.forServer(certificate.key(), certificate.chain())
          .sslProvider(MeshTls.preferredProvider())
          .protocols(PROTOCOLS)
          .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
          .applicationProtocolConfig(H2_OR_HTTP1)
          .build();
      return new InUse(certificate, context);
    } catch (SSLException | IllegalArgumentException e) {
      throw new ConfigException(EdgeCertificate.CERT_KEY, config.certFile() + " with " + config.keyFile()
          + ": cannot serve TLS with this pair (" + e.getMessage() + ")");
    }
  }

  private static List<byte[]> readNow(List<Path> files) {
    return List.of(readNow(files.get(0), EdgeCertificate.CERT_KEY), readNow(files.get(1), EdgeCertificate.KEY_KEY));
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
