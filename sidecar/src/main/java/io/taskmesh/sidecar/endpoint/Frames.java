package io.taskmesh.sidecar.endpoint;

import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;

/** Frames read on one stream, made again for the other: a frame is bound to its stream, its body is shared. */
public final class Frames {
  private Frames() {}

  /** The frame for the other stream; null (and {@code msg} released) for a kind the proxy does not pass on. */
  public static Object restamp(Object msg) {
    if (msg instanceof Http2DataFrame data) {
      return new DefaultHttp2DataFrame(data.content(), data.isEndStream(), data.padding());
    }
    if (msg instanceof Http2HeadersFrame headers) {
      return new DefaultHttp2HeadersFrame(headers.headers(), headers.isEndStream(), headers.padding());
    }
    if (msg instanceof Http2ResetFrame reset) {
      return new DefaultHttp2ResetFrame(reset.errorCode());
    }
    ReferenceCountUtil.release(msg);
    return null;
  }

  public static boolean isEndStream(Object frame) {
    return (frame instanceof Http2HeadersFrame headers && headers.isEndStream())
        || (frame instanceof Http2DataFrame data && data.isEndStream());
  }
}
