package io.taskmesh.sidecar.discovery;

import java.net.InetSocketAddress;

/** One place a service can be reached. */
public record EndpointAddress(String host, int port) {
  public static EndpointAddress parse(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("endpoint must be host:port, got '" + hostPort + "'");
    }
    return new EndpointAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  public InetSocketAddress socketAddress() {
    return InetSocketAddress.createUnresolved(host, port);
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
