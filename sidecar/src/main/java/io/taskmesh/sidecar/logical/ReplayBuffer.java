package io.taskmesh.sidecar.logical;

import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import java.util.ArrayList;
import java.util.List;

/**
 * The request body kept for a retry: the DATA frames the caller sent, as retained views of the same
 * buffers (no copy), up to a small limit. Past the limit the request is not retryable and the buffer is
 * let go, so only small (unary-sized) requests cost memory.
 */
final class ReplayBuffer {
  static final int MAX_BYTES = 64 * 1024;

  private final List<Http2DataFrame> frames = new ArrayList<>();
  private int bytes;
  private boolean ended;
  private boolean overflowed;

  /** Keeps a view of {@code frame}; false once the request is over the limit (the buffer is then empty). */
  boolean add(Http2DataFrame frame) {
    if (overflowed) {
      return false;
    }
    bytes += frame.content().readableBytes();
    if (bytes > MAX_BYTES) {
      release();
      overflowed = true;
      return false;
    }
    frames.add(new DefaultHttp2DataFrame(frame.content().retainedDuplicate(), frame.isEndStream(), frame.padding()));
    ended |= frame.isEndStream();
    return true;
  }

  void markEnded() {
    ended = true;
  }

  /** The whole request is here: it can be sent again. */
  boolean replayable() {
    return ended && !overflowed;
  }

  /** Fresh frames over the same bytes, to write on a new stream. */
  List<Http2DataFrame> frames() {
    List<Http2DataFrame> copies = new ArrayList<>(frames.size());
    for (Http2DataFrame frame : frames) {
      copies.add(new DefaultHttp2DataFrame(frame.content().retainedDuplicate(), frame.isEndStream(), frame.padding()));
    }
    return copies;
  }

  /** The whole request body as one copy, or null when it is not all here. */
  byte[] bytes() {
    if (!replayable()) {
      return null;
    }
    byte[] body = new byte[bytes];
    int at = 0;
    for (Http2DataFrame frame : frames) {
      int length = frame.content().readableBytes();
      frame.content().getBytes(frame.content().readerIndex(), body, at, length);
      at += length;
    }
    return body;
  }

  void release() {
    for (Http2DataFrame frame : frames) {
      frame.release();
    }
    frames.clear();
  }
}
