package io.taskmesh.sidecar.route;

import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.ClusterResolver;
import io.taskmesh.sidecar.concrete.Backend;
import io.taskmesh.sidecar.concrete.Backends;

/**
 * Where one request goes: the logical service the caller named (its policies, metrics and errors are
 * about it) and the concrete backends that serve it.
 */
public record Route(String service, Backends backends) {
  /** A route to one cluster: the service's own. */
  public Route(String service, Cluster cluster) {
    this(service, Backends.single(new Backend(cluster.service(), 1, ClusterResolver.of(cluster))));
  }
}
