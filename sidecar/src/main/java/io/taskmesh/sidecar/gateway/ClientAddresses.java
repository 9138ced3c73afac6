package io.taskmesh.sidecar.gateway;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.taskmesh.config.Cidr;
import io.taskmesh.config.ForwardedForTrust;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Who a request comes from, for per-client limits: the connection's peer, or an {@code X-Forwarded-For} entry
 * as far as the config trusts the proxies in front. An IPv6 client is its /64, since one host may use any
 * address of its subnet; an IPv4 client is its address.
 */
final class ClientAddresses {
  private final int trustedHops;
  private final List<Cidr> trustedProxies;

  ClientAddresses(ForwardedForTrust trust) {
    this.trustedHops = trust.trustedHops();
    this.trustedProxies = trust.trustedProxies().stream().map(Cidr::parse).toList();
  }

  String of(Channel channel, String forwardedFor) {
    Channel connection = channel instanceof Http2StreamChannel stream ? stream.parent() : channel;
    SocketAddress peer = connection.remoteAddress();
    if (!(peer instanceof InetSocketAddress inet) || inet.getAddress() == null) {
      return String.valueOf(peer);
    }
    return of(inet.getAddress(), forwardedFor);
  }

  /** The client's key for a connection from {@code peer} whose request says {@code forwardedFor} (or null). */
  String of(InetAddress peer, String forwardedFor) {
    byte[] client = forwardedFor == null ? null : fromForwardedFor(peer.getAddress(), forwardedFor.split(","));
    return key(client == null ? peer.getAddress() : client);
  }

  /** The trusted entry's address, or null when the header says nothing the config lets it say. */
  private byte[] fromForwardedFor(byte[] peer, String[] entries) {
    if (trustedHops > 0) {
      return entries.length >= trustedHops ? Cidr.literal(entries[entries.length - trustedHops].trim()) : null;
    }
    if (trustedProxies.isEmpty() || !trusted(peer)) {
      return null;
    }
    byte[] nearest = null;
    for (int i = entries.length - 1; i >= 0; i--) {
      nearest = Cidr.literal(entries[i].trim());
      if (nearest == null || !trusted(nearest)) {
        return nearest;
      }
    }
    return nearest; // every hop is a trusted proxy: the farthest one is the client
  }

  private boolean trusted(byte[] address) {
    return trustedProxies.stream().anyMatch(block -> block.contains(address));
  }

  private static String key(byte[] address) {
    try {
      InetAddress parsed = InetAddress.getByAddress(address);
      if (address.length == 4) {
        return parsed.getHostAddress();
      }
      byte[] subnet = new byte[16];
      System.arraycopy(address, 0, subnet, 0, 8);
      String prefix = InetAddress.getByAddress(subnet).getHostAddress();
      return prefix + "/64";
    } catch (UnknownHostException e) {
      throw new IllegalStateException("4 or 16 bytes are always an address", e);
    }
  }
}
