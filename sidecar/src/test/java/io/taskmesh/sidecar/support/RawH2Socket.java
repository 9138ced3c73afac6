package io.taskmesh.sidecar.support;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A client that writes HTTP/2 frames by hand, for what real clients refuse to do: streams over the server's
 * limit, resets in a flood, header blocks that never end, silence towards PINGs. A reader thread records the
 * type and error code of each frame the server sends, and when it closed the connection.
 */
public final class RawH2Socket implements AutoCloseable {
  public static final int DATA = 0;
  public static final int HEADERS = 1;
  public static final int RST_STREAM = 3;
  public static final int SETTINGS = 4;
  public static final int PING = 6;
  public static final int GOAWAY = 7;
  public static final int WINDOW_UPDATE = 8;
  public static final int CONTINUATION = 9;

  /** One frame from the server: its type, stream and error code (RST_STREAM, GOAWAY) or increment (WINDOW_UPDATE). */
  public record Frame(int type, int streamId, long code) {}

  private final Socket socket;
  private final OutputStream out;
  private final Http2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();
  private final List<Frame> received = new CopyOnWriteArrayList<>();
  private final CountDownLatch closed = new CountDownLatch(1);

  public RawH2Socket(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    out = socket.getOutputStream();
    Thread reader = new Thread(this::read, "raw-h2-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** The connection preface and an empty SETTINGS frame. */
  public RawH2Socket preface() throws IOException {
    out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    frame(SETTINGS, 0, 0, new byte[0]);
    return this;
  }

  /** A gRPC request's HEADERS (whole block) for {@code path}, ending the stream or not. */
  public RawH2Socket headers(int streamId, String authority, String path, boolean endStream) throws IOException {
    frame(HEADERS, 0x4 | (endStream ? 0x1 : 0), streamId, block(authority, path, "application/grpc"));
    return this;
  }

  /** The HEADERS (whole block) of a JSON POST to {@code path} whose body is to follow. */
  public RawH2Socket jsonPost(int streamId, String authority, String path) throws IOException {
    frame(HEADERS, 0x4, streamId, block(authority, path, "application/json"));
    return this;
  }

  /** HEADERS without END_HEADERS: the block stays open, waiting for CONTINUATION frames. */
  public RawH2Socket unfinishedHeaders(int streamId, String authority, String path) throws IOException {
    frame(HEADERS, 0, streamId, block(authority, path, "application/grpc"));
    return this;
  }

  public RawH2Socket continuation(int streamId, byte[] fragment) throws IOException {
    frame(CONTINUATION, 0, streamId, fragment);
    return this;
  }

  /** A DATA frame of {@code bytes} zeros on {@code streamId}. */
  public RawH2Socket data(int streamId, int bytes, boolean endStream) throws IOException {
    frame(DATA, endStream ? 0x1 : 0, streamId, new byte[bytes]);
    return this;
  }

  /** A PING the server must answer, after whatever it wrote before reading it. */
  public RawH2Socket ping() throws IOException {
    frame(PING, 0, 0, new byte[8]);
    return this;
  }

  public RawH2Socket reset(int streamId) throws IOException {
    frame(RST_STREAM, 0, streamId, new byte[] {0, 0, 0, 8}); // CANCEL
    return this;
  }

  public void writeRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  public List<Frame> received() {
    return List.copyOf(received);
  }

  public boolean receivedFrame(int type, long errorCode) {
    return received.stream().anyMatch(frame -> frame.type() == type && frame.code() == errorCode);
  }

  public boolean receivedFrame(int type) {
    return received.stream().anyMatch(frame -> frame.type() == type);
  }

  /** Waits up to {@code seconds} for the server to close the connection. */
  public boolean closedWithin(long seconds) throws InterruptedException {
    return closed.await(seconds, TimeUnit.SECONDS);
  }

  private byte[] block(String authority, String path, String contentType) {
    Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("http").authority(authority).path(path);
    headers.set("content-type", contentType);
    headers.set("te", "trailers");
    ByteBuf encoded = Unpooled.buffer();
    try {
      hpack.encodeHeaders(0, headers, encoded);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    byte[] bytes = new byte[encoded.readableBytes()];
    encoded.readBytes(bytes);
    encoded.release();
    return bytes;
  }

  private synchronized void frame(int type, int flags, int streamId, byte[] payload) throws IOException {
    byte[] header = {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
        (byte) type, (byte) flags, (byte) (streamId >>> 24), (byte) (streamId >>> 16), (byte) (streamId >>> 8),
        (byte) streamId};
    out.write(header);
    out.write(payload);
    out.flush();
  }

  private void read() {
    try (DataInputStream in = new DataInputStream(socket.getInputStream())) {
      byte[] header = new byte[9];
      while (true) {
        in.readFully(header);
        int length = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
        int type = header[3] & 0xff;
        int streamId = ((header[5] & 0x7f) << 24) | ((header[6] & 0xff) << 16) | ((header[7] & 0xff) << 8)
            | (header[8] & 0xff);
        byte[] payload = new byte[length];
        in.readFully(payload);
        long code = type == RST_STREAM || type == WINDOW_UPDATE ? readInt(payload, 0) & 0x7fffffffL
            : type == GOAWAY ? readInt(payload, 4) : -1;
        received.add(new Frame(type, streamId, code));
      }
    } catch (IOException endOfStream) {
      closed.countDown();
    }
  }

  private static long readInt(byte[] bytes, int offset) {
    return ((bytes[offset] & 0xffL) << 24) | ((bytes[offset + 1] & 0xffL) << 16) | ((bytes[offset + 2] & 0xffL) << 8)
        | (bytes[offset + 3] & 0xffL);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
