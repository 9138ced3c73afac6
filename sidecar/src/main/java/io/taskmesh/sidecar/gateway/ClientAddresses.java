package io.taskmesh.sidecar.gateway;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.regex.Pattern;

/** Who a request comes from, for per-client limits. */
final class ClientAddresses {
  private static final Pattern IP = Pattern.compile("[0-9A-Fa-f.:]{2,45}");

  private ClientAddresses() {}

  /**
   * The peer's IP, or with {@code trustForwardedFor} the last {@code X-Forwarded-For} entry: the one the
   * trusted proxy in front of the gateway appended (earlier entries are whatever the client claimed).
   */
  static String of(Channel channel, String forwardedFor, boolean trustForwardedFor) {
    if (trustForwardedFor && forwardedFor != null) {
      String last = forwardedFor.substring(forwardedFor.lastIndexOf(',') + 1).trim();
      if (IP.matcher(last).matches()) {
        return last;
      }
    }
    Channel connection = channel instanceof Http2StreamChannel stream ? stream.parent() : channel;
    SocketAddress peer = connection.remoteAddress();
    return peer instanceof InetSocketAddress inet && inet.getAddress() != null
        ? inet.getAddress().getHostAddress()
        : String.valueOf(peer);
  }
}
