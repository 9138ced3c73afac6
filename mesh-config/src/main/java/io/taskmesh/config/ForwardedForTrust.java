package io.taskmesh.config;

import java.util.List;

/**
 * How far the gateway believes {@code X-Forwarded-For}. With neither set (the default) it is ignored and the
 * client is the connection's peer.
 *
 * @param trustedHops the client is the entry this many places from the right: each proxy in front appends the
 *     address it saw, so with one load balancer the last entry is the client it saw
 * @param trustedProxies CIDR blocks of proxies in front: the header counts only when the peer is in one, and the
 *     client is the rightmost entry outside them
 */
public record ForwardedForTrust(int trustedHops, List<String> trustedProxies) {
  public static final ForwardedForTrust NONE = new ForwardedForTrust(0, List.of());

  public ForwardedForTrust {
    trustedProxies = List.copyOf(trustedProxies);
  }

  public boolean trustsNothing() {
    return trustedHops == 0 && trustedProxies.isEmpty();
  }
}
