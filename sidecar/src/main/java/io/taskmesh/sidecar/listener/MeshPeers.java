package io.taskmesh.sidecar.listener;

import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.cluster.Endpoint;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.function.Predicate;

/**
 * Who counts as a mesh peer on the inbound listener until connections carry a workload identity (mTLS): a
 * connection from loopback (inside this pod, or the local mesh where every sidecar shares one host), or from
 * the address of an endpoint this proxy knows from discovery: a meshed pod, whose outbound traffic the capture
 * rules send through its own sidecar, so a connection from it comes from that sidecar's outbound side.
 *
 * <p>Its weakness is that an address is no identity: anything that can use a meshed pod's address without
 * passing its sidecar (a process running as the proxy's own user, which the capture exempts; host-network
 * pods on the same node address; source spoofing where the network allows it) is taken for a peer. Callers
 * this proxy does not call itself are unknown to it, so it treats their sidecars as outside traffic: their
 * internal headers are dropped, which costs only that their method-catalog queries count in this pod's
 * metrics and limits.
 */
public final class MeshPeers implements Predicate<SocketAddress> {
  private final ClusterManager clusters;

  public MeshPeers(ClusterManager clusters) {
    this.clusters = clusters;
  }

  @Override
  public boolean test(SocketAddress peer) {
    if (!(peer instanceof InetSocketAddress inet) || inet.getAddress() == null) {
      return false;
    }
    if (inet.getAddress().isLoopbackAddress()) {
      return true;
    }
    String host = inet.getAddress().getHostAddress();
    for (Cluster cluster : clusters.clusters().values()) {
      for (Endpoint endpoint : cluster.endpoints()) {
        if (endpoint.address().host().equals(host)) {
          return true;
        }
      }
    }
    return false;
  }
}
