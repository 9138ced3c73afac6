package io.taskmesh.e2e.local;

/**
 * The ports of one "pod" on the shared loopback: in Kubernetes each pod has its own 127.0.0.1, here pods
 * share one, so each gets its own set of ports.
 *
 * @param app the task-service's gRPC port ({@code 0} for the client pod, which has no app server)
 */
public record PodPorts(int admin, int outbound, int inbound, int app) {

  /**
   * Fixed, readable ports for a person: pod 0 (the client) keeps the sidecar's standard 15000/15001/15006,
   * pod i uses 15000 + 100·i and so on, and replica i's app listens on 20050 + i - all below the kernel's
   * ephemeral range (32768-60999), where an outgoing connection could hold the port first.
   */
  public static PodPorts fixed(int pod) {
    return new PodPorts(15000 + 100 * pod, 15001 + 100 * pod, 15006 + 100 * pod, pod == 0 ? 0 : 20050 + pod);
  }

  /** Free ports picked by the operating system, for tests that must not collide with anything. */
  public static PodPorts ephemeral(boolean withApp) {
    return new PodPorts(FreePorts.next(), FreePorts.next(), FreePorts.next(), withApp ? FreePorts.next() : 0);
  }
}
