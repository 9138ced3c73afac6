package io.taskmesh.sidecar.capture;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.socket.SocketChannel;
import io.taskmesh.sidecar.discovery.OnDemandRouter;
import io.taskmesh.sidecar.route.Router;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What a listener does with a connection the pod's capture redirected to it (one that has an
 * {@link OriginalDestination}); connections dialled to the listener itself ({@code TASKMESH_OUTBOUND}, tests that
 * wire processes by hand) are not captured and keep the listener's own handling.
 */
@FunctionalInterface
public interface CapturedTraffic {
  CapturedTraffic NONE = channel -> Optional.empty();

  Optional<Connection> accept(Channel channel);

  /**
   * One captured connection.
   *
   * @param forwarder forwards it untouched to where it was going (a new handler each call)
   * @param http2ToChain whether HTTP/2 on it goes through the listener's chain; false: every byte is forwarded
   * @param router the router for its HTTP/2 streams, when it is not the listener's own
   */
  record Connection(Supplier<ChannelHandler> forwarder, boolean http2ToChain, Optional<Router> router) {}

  /**
   * app → anywhere: HTTP/2 is routed (by authority, else by the original destination through discovery), anything
   * else is forwarded to the original destination.
   */
  static CapturedTraffic outbound(Class<? extends SocketChannel> channelType, TcpMetrics metrics,
      Optional<OnDemandRouter> router) {
    return channel -> OriginalDestination.of(channel).map(destination -> new Connection(
        () -> new OpaqueForwarder(destination, channelType, metrics), true,
        router.map(r -> r.forConnectionTo(Optional.of(hostPort(destination))))));
  }

  /**
   * mesh → app: HTTP/2 to the app's gRPC port goes through the inbound chain; other protocols, and other ports
   * of the pod, are forwarded to that port on loopback.
   */
  static CapturedTraffic inbound(Class<? extends SocketChannel> channelType, TcpMetrics metrics, int appPort) {
    return channel -> OriginalDestination.of(channel).map(destination -> new Connection(
        () -> new OpaqueForwarder(new InetSocketAddress("127.0.0.1", destination.getPort()), channelType, metrics),
        destination.getPort() == appPort, Optional.empty()));
  }

  private static String hostPort(InetSocketAddress address) {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }
}
