package io.taskmesh.sidecar.cluster;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.concurrent.atomic.AtomicInteger;

/** One multiplexed HTTP/2 connection to an endpoint, counting the streams it carries. */
final class UpstreamConnection {
  private final ChannelFuture connected;
  private final AtomicInteger openStreams = new AtomicInteger();
  private final Runnable onStreamClosed;
  private volatile boolean goneAway;

  UpstreamConnection(UpstreamConnector connector, Endpoint endpoint, EventLoop loop, Runnable onStreamClosed) {
    this.onStreamClosed = onStreamClosed;
    this.connected = connector.connect(endpoint.address(), loop, () -> goneAway = true);
  }

  EventLoop eventLoop() {
    return connected.channel().eventLoop();
  }

  /** Still worth sending new streams to: connecting or open, not told to go away, below the peer's limit. */
  boolean acceptsStreams() {
    if (goneAway) {
      return false;
    }
    if (!connected.isDone()) {
      return true;
    }
    Channel channel = connected.channel();
    if (!connected.isSuccess() || !channel.isActive()) {
      return false;
    }
    Http2FrameCodec codec = channel.pipeline().get(Http2FrameCodec.class);
    return codec != null && openStreams.get() < codec.connection().local().maxActiveStreams();
  }

  boolean isClosed() {
    return connected.isDone() && (!connected.isSuccess() || !connected.channel().isOpen());
  }

  int openStreams() {
    return openStreams.get();
  }

  Future<Http2StreamChannel> openStream(ChannelHandler handler) {
    openStreams.incrementAndGet();
    Promise<Http2StreamChannel> promise = connected.channel().eventLoop().newPromise();
    connected.addListener(done -> {
      if (!done.isSuccess()) {
        streamClosed();
        promise.setFailure(done.cause());
        return;
      }
      new Http2StreamChannelBootstrap(connected.channel()).handler(handler).open().addListener(opened -> {
        if (opened.isSuccess()) {
          Http2StreamChannel stream = (Http2StreamChannel) opened.getNow();
          stream.closeFuture().addListener(closed -> streamClosed());
          promise.setSuccess(stream);
        } else {
          streamClosed();
          promise.setFailure(opened.cause());
        }
      });
    });
    return promise;
  }

  private void streamClosed() {
    openStreams.decrementAndGet();
    onStreamClosed.run();
  }

  void close() {
    connected.addListener(done -> connected.channel().close());
  }
}
