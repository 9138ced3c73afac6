package io.taskmesh.bench.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.identity.Authority;
import io.taskmesh.operator.identity.Certificates;
import io.taskmesh.operator.identity.IssuingAuthority;
import io.taskmesh.operator.identity.RootOfTrust;
import io.taskmesh.operator.identity.WorkloadCertificateSigner;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.identity.CertificateRequest;
import io.taskmesh.sidecar.identity.MeshTls;
import io.taskmesh.sidecar.identity.WorkloadCertificate;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * JDK TLS against netty-tcnative (BoringSSL) for the sidecar's mTLS, in one process, same certificates
 * (ECDSA P-256 chains from the operator's signer) and the sidecar's own contexts (TLS 1.3, ALPN h2, client
 * certificate required): full mutual handshakes per second over new connections to 127.0.0.1, and the
 * throughput of bytes echoed through one connection. Engines alternate round by round so that both see
 * the same machine load; only their ratio means anything on a shared machine. A first round (not
 * reported) lets the JIT compile both engines' paths.
 *
 * <pre>
 * java -cp "bench/target/classes:$(cat bench/target/classpath.txt)" io.taskmesh.bench.tls.TlsEngineBench [rounds] [handshakes] [megabytes]
 * </pre>
 */
public final class TlsEngineBench {
  private static final int CHUNK = 16 * 1024;

  /** One engine's result in one round. */
  public record Round(SslProvider provider, double handshakesPerSecond, double megabytesPerSecond) {}

  private TlsEngineBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int handshakes = args.length > 1 ? Integer.parseInt(args[1]) : 300;
    int megabytes = args.length > 2 ? Integer.parseInt(args[2]) : 256;
    List<Round> results = run(rounds, handshakes, megabytes, List.of(SslProvider.JDK, SslProvider.OPENSSL));
    System.out.println("| round | engine | handshakes/s | MB/s echoed |");
    System.out.println("|---|---|---:|---:|");
    for (int i = 0; i < results.size(); i++) {
      Round r = results.get(i);
      System.out.printf(Locale.ROOT, "| %d | %s | %.0f | %.0f |%n", i / 2 + 1, r.provider(), r.handshakesPerSecond(),
          r.megabytesPerSecond());
    }
    System.out.printf(Locale.ROOT, "median OPENSSL/JDK: handshakes %.2fx, throughput %.2fx%n",
        median(results, SslProvider.OPENSSL, true) / median(results, SslProvider.JDK, true),
        median(results, SslProvider.OPENSSL, false) / median(results, SslProvider.JDK, false));
  }

  public static List<Round> run(int rounds, int handshakes, int megabytes, List<SslProvider> providers) throws Exception {
    for (SslProvider provider : providers) {
      if (!SslProvider.isAlpnSupported(provider)) {
        throw new IllegalStateException(provider + " TLS with ALPN is not available in this JVM");
      }
    }
    Mesh mesh = new Mesh();
    List<Round> results = new ArrayList<>();
    try (NettyResources server = new NettyResources(1); NettyResources client = new NettyResources(1)) {
      for (int round = -1; round < rounds; round++) {
        for (SslProvider provider : providers) {
          MeshTls serverTls = MeshTls.of(mesh.certificate("billing"), "bench.test", Clock.systemUTC(), provider);
          MeshTls clientTls = MeshTls.of(mesh.certificate("frontend"), "bench.test", Clock.systemUTC(), provider);
          Channel listener = echoServer(server, serverTls);
          try {
            InetSocketAddress address = (InetSocketAddress) listener.localAddress();
            double perSecond = handshakes(client, clientTls, address, handshakes);
            double throughput = throughput(client, clientTls, address, megabytes);
            if (round >= 0) {
              results.add(new Round(provider, perSecond, throughput));
            }
          } finally {
            listener.close().syncUninterruptibly();
          }
        }
      }
    }
    return results;
  }

  private static Channel echoServer(NettyResources netty, MeshTls tls) {
    return new ServerBootstrap().group(netty.acceptors(), netty.workers()).channel(netty.serverChannelType())
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel channel) {
            channel.pipeline().addLast(tls.server().newHandler(channel.alloc()), new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object message) {
                ctx.write(message);
              }

              @Override
              public void channelReadComplete(ChannelHandlerContext ctx) {
                ctx.flush();
              }
            });
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
  }

  /** Sequential: connect, full mutual handshake, close - {@code count} times. */
  private static double handshakes(NettyResources netty, MeshTls tls, InetSocketAddress address, int count) {
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      dial(netty, tls, address, new ChannelInboundHandlerAdapter()).close().syncUninterruptibly();
    }
    return count / ((System.nanoTime() - start) / 1e9);
  }

  /** {@code megabytes} written in 16 KiB chunks through one connection and echoed back, at most 1 MiB in flight. */
  private static double throughput(NettyResources netty, MeshTls tls, InetSocketAddress address, int megabytes)
      throws Exception {
    long total = (long) megabytes * 1024 * 1024;
    AtomicLong received = new AtomicLong();
    CompletableFuture<Long> done = new CompletableFuture<>();
    Channel channel = dial(netty, tls, address, new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object message) {
        ByteBuf bytes = (ByteBuf) message;
        long now = received.addAndGet(bytes.readableBytes());
        bytes.release();
        if (now >= total) {
          done.complete(System.nanoTime());
        }
      }
    });
    byte[] chunk = new byte[CHUNK];
    long start = System.nanoTime();
    long sent = 0;
    long deadline = start + TimeUnit.MINUTES.toNanos(2);
    while (sent < total && System.nanoTime() < deadline) {
      if (sent - received.get() < 1024 * 1024) {
        channel.writeAndFlush(channel.alloc().buffer(CHUNK).writeBytes(chunk));
        sent += CHUNK;
      } else {
        Thread.onSpinWait();
      }
    }
    long end = done.get(2, TimeUnit.MINUTES);
    channel.close().syncUninterruptibly();
    return total / 1e6 / ((end - start) / 1e9);
  }

  /** A client connection whose mutual handshake has succeeded. */
  private static Channel dial(NettyResources netty, MeshTls tls, InetSocketAddress address,
      ChannelInboundHandlerAdapter reader) {
    SslHandler[] handler = new SslHandler[1];
    Channel channel = new Bootstrap().group(netty.workers()).channel(netty.channelType())
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            handler[0] = tls.client().newHandler(ch.alloc(), address.getHostString(), address.getPort());
            ch.pipeline().addLast(handler[0], reader);
          }
        })
        .connect(address).syncUninterruptibly().channel();
    if (!handler[0].handshakeFuture().awaitUninterruptibly(10, TimeUnit.SECONDS) || !handler[0].handshakeFuture().isSuccess()) {
      channel.close();
      throw new IllegalStateException("handshake failed", handler[0].handshakeFuture().cause());
    }
    return channel;
  }

  private static double median(List<Round> results, SslProvider provider, boolean handshakes) {
    double[] values = results.stream().filter(r -> r.provider() == provider)
        .mapToDouble(r -> handshakes ? r.handshakesPerSecond() : r.megabytesPerSecond()).sorted().toArray();
    return values.length % 2 == 1 ? values[values.length / 2]
        : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
  }

  /** A root, an intermediate and leaves, made by the operator's own signer from the sidecar's own CSRs. */
  private static final class Mesh {
    private final WorkloadCertificateSigner signer;
    private final List<X509Certificate> anchors;

    Mesh() {
      KeyPair key = Certificates.newKeyPair();
      Instant now = Instant.now();
      X509Certificate anchor = Certificates.selfSignedCa(key, "bench-root", now.minusSeconds(60), now.plus(Duration.ofDays(1)));
      anchors = List.of(anchor);
      signer = new WorkloadCertificateSigner(new IssuingAuthority(
          RootOfTrust.of(new Authority(anchor, key.getPrivate()), anchors), Duration.ofHours(1), Clock.systemUTC()));
    }

    WorkloadCertificate certificate(String serviceAccount) throws Exception {
      SpiffeId id = new SpiffeId("bench.test", "bench", serviceAccount);
      CertificateRequest request = CertificateRequest.forIdentity(id);
      return new WorkloadCertificate(id, request.key().getPrivate(), signer.sign(request.der(), id, Duration.ofHours(1)),
          anchors);
    }
  }
}
