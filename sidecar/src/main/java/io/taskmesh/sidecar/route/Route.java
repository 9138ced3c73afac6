package io.taskmesh.sidecar.route;

import io.taskmesh.sidecar.cluster.Cluster;

/** Where one request goes: the logical service the caller named and the cluster serving it. */
public record Route(String service, Cluster cluster) {}
