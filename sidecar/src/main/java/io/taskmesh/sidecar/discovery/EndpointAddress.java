package io.taskmesh.sidecar.discovery;

import io.taskmesh.identity.SpiffeId;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * One place a service can be reached, and the workload identity discovery says is there: present for a
 * meshed endpoint (reached over mTLS, its certificate must prove exactly that identity), empty for one
 * outside the mesh (reached in plaintext).
 */
public record EndpointAddress(String host, int port, Optional<SpiffeId> identity) {
  public EndpointAddress {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(identity, "identity");
  }

  /** An endpoint outside the mesh. */
  public EndpointAddress(String host, int port) {
    this(host, port, Optional.empty());
  }

  public static EndpointAddress parse(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("endpoint must be host:port, got '" + hostPort + "'");
    }
    return new EndpointAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  /** The same host and port, whatever identity each was announced with. */
  public boolean samePlaceAs(EndpointAddress other) {
    return port == other.port && host.equals(other.host);
  }

  public InetSocketAddress socketAddress() {
    return InetSocketAddress.createUnresolved(host, port);
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
