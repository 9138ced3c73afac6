package io.taskmesh.sidecar.cluster;

import java.util.List;

/** Chooses the endpoint of one request among the active ones (never empty when called). */
public interface LoadBalancer {
  Endpoint choose(List<Endpoint> active);
}
