package io.taskmesh.sidecar.cluster;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicInteger;

/** One HTTP/2 connection to an endpoint, counting the streams it carries. */
final class UpstreamConnection {
  private final ChannelFuture connected;
  private final AtomicInteger openStreams = new AtomicInteger();
  private final Runnable onStreamClosed;
  private volatile boolean goneAway;
  /** The codec's view of the connection, found once it is up (not looked up in the pipeline per request). */
  private volatile Http2Connection http2;
  /** The connection's streams, found once it is up. */
  private UpstreamStreams streams;
  private final Runnable streamEnded = this::streamClosed;

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
    Http2Connection connection = http2(channel);
    return connection != null && openStreams.get() < connection.local().maxActiveStreams();
  }

  private Http2Connection http2(Channel channel) {
    Http2Connection found = http2;
    if (found == null) {
      Http2FrameCodec codec = channel.pipeline().get(Http2FrameCodec.class);
      found = codec == null ? null : codec.connection();
      http2 = found;
    }
    return found;
  }

  boolean isClosed() {
    return connected.isDone() && (!connected.isSuccess() || !connected.channel().isOpen());
  }

  int openStreams() {
    return openStreams.get();
  }

  /** Streams in the connection's map now, read on its event loop (for tests and introspection). */
  int mappedStreams() {
    if (!connected.isSuccess()) {
      return 0;
    }
    Channel channel = connected.channel();
    UpstreamStreams mapped = channel.pipeline().get(UpstreamStreams.class);
    return mapped == null ? 0 : channel.eventLoop().submit(mapped::size).syncUninterruptibly().getNow();
  }

  Future<UpstreamStream> openStream(UpstreamStream.Receiver receiver) {
    openStreams.incrementAndGet();
    Promise<UpstreamStream> promise = connected.channel().eventLoop().newPromise();
    connected.addListener(new StreamOpening(receiver, promise));
    return promise;
  }

  /** Opens one stream once the connection is up; a plain object, not a lambda per stream (see EndpointAttempt). */
  private final class StreamOpening implements ChannelFutureListener {
    private final UpstreamStream.Receiver receiver;
    private final Promise<UpstreamStream> promise;

    StreamOpening(UpstreamStream.Receiver receiver, Promise<UpstreamStream> promise) {
      this.receiver = receiver;
      this.promise = promise;
    }

    /** Runs on the connection's event loop, as every listener of its connect future does. */
    @Override
    public void operationComplete(ChannelFuture done) {
      if (!done.isSuccess() || !done.channel().isActive()) {
        streamClosed();
        promise.setFailure(done.isSuccess() ? new ClosedChannelException() : done.cause());
        return;
      }
      if (streams == null) {
        streams = done.channel().pipeline().get(UpstreamStreams.class);
      }
      promise.setSuccess(streams.open(receiver, streamEnded));
    }
  }

  private void streamClosed() {
    openStreams.decrementAndGet();
    onStreamClosed.run();
  }

  void close() {
    connected.addListener(done -> connected.channel().close());
  }
}
