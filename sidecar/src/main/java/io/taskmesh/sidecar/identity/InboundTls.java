package io.taskmesh.sidecar.identity;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.identity.SpiffeId;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of an inbound connection when identity is on: it tells a TLS record from plaintext by
 * the first bytes. TLS gets the server context of the moment; once the handshake has proved the caller
 * (and agreed on h2) its SPIFFE ID is on the channel ({@link PeerIdentity#of(io.netty.channel.Channel)}), and the handlers after this one see
 * plaintext HTTP/2. Plaintext goes on untouched in permissive mode and is refused (the connection closed)
 * in strict mode. Either way this handler leaves the pipeline after deciding.
 */
public final class InboundTls extends ByteToMessageDecoder {
  /** A TLS record header is 5 bytes. */
  private static final int SNIFF_BYTES = 5;
  private static final Logger log = LoggerFactory.getLogger(InboundTls.class);

  /** What became of a connection, for a counter. */
  public enum Outcome { TLS, PLAINTEXT_ACCEPTED, PLAINTEXT_REFUSED, TLS_REFUSED }

  /** Told once per connection what became of it. */
  @FunctionalInterface
  public interface Observer {
    void connection(Outcome outcome);
  }

  private final MeshTlsContexts contexts;
  private final IdentityMode mode;
  private final Observer observer;

  public InboundTls(MeshTlsContexts contexts, IdentityMode mode, Observer observer) {
    if (mode == IdentityMode.OFF) {
      throw new IllegalArgumentException("inbound TLS is for permissive and strict modes only");
    }
    this.contexts = contexts;
    this.mode = mode;
    this.observer = observer;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (in.readableBytes() < SNIFF_BYTES) {
      return;
    }
    if (SslHandler.isEncrypted(in, false)) {
      Optional<MeshTls> tls = contexts.current();
      if (tls.isEmpty()) {
        in.skipBytes(in.readableBytes());
        refuse(ctx, Outcome.TLS_REFUSED, "no certificate yet");
        return;
      }
      SslHandler handler = tls.get().server().newHandler(ctx.alloc());
      String name = ctx.name();
      ctx.pipeline().addAfter(name, "tls", handler);
      ctx.pipeline().addAfter("tls", "peer-identity", new PeerRecorder(handler));
      ctx.pipeline().remove(this);  // hands the buffered bytes to the SslHandler
    } else if (mode == IdentityMode.STRICT) {
      in.skipBytes(in.readableBytes());
      refuse(ctx, Outcome.PLAINTEXT_REFUSED, "plaintext in strict mode");
    } else {
      observer.connection(Outcome.PLAINTEXT_ACCEPTED);
      ctx.pipeline().remove(this);
    }
  }

  private void refuse(ChannelHandlerContext ctx, Outcome outcome, String why) {
    ctx.pipeline().remove(this);  // decides once; the skipped bytes never reach the app
    observer.connection(outcome);
    log.info("event=inbound_refused reason=\"{}\" remote={}", why, ctx.channel().remoteAddress());
    ctx.channel().close();
  }

  /** Puts the proven identity on the channel, or closes a connection that proved none or did not agree on h2. */
  private final class PeerRecorder extends ChannelInboundHandlerAdapter {
    private final SslHandler tls;

    PeerRecorder(SslHandler tls) {
      this.tls = tls;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event instanceof SslHandshakeCompletionEvent done) {
        Optional<SpiffeId> peer = done.isSuccess() ? PeerIdentity.of(tls) : Optional.empty();
        if (peer.isPresent() && MeshTls.negotiatedH2(tls)) {
          ctx.channel().attr(PeerIdentity.ATTRIBUTE).set(peer.get());
          observer.connection(Outcome.TLS);
          ctx.pipeline().remove(this);
        } else {
          observer.connection(Outcome.TLS_REFUSED);
          log.info("event=inbound_refused reason=\"{}\" remote={}", done.isSuccess() ? "no h2 or no identity"
              : String.valueOf(done.cause()), ctx.channel().remoteAddress());
          ctx.close();
        }
      }
      ctx.fireUserEventTriggered(event);
    }
  }
}
