package io.taskmesh.e2e.cluster;

/** The fixed ports of the local cluster, all below the kernel's ephemeral range (32768-60999). */
public final class ClusterPorts {
  /** Where {@code ./taskmesh up} serves the API server; tests take any free port. */
  public static final int API_SERVER = 6443;
  /** Zipkin, on the host address, behind Service {@code zipkin.default:9411}. */
  public static final int ZIPKIN = 9411;

  private ClusterPorts() {}
}
