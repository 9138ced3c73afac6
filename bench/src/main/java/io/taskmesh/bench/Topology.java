package io.taskmesh.bench;

import java.util.List;

/** One way of putting a client in front of the task service: directly, or through a pair of proxies. */
public interface Topology extends AutoCloseable {

  String name();

  /** host:port the load generator calls. */
  String target();

  /** The :authority to send (the sidecar routes by it); {@code null} for none. */
  String authority();

  /** The proxy processes whose CPU and memory are measured; empty for the direct path. */
  List<Long> proxyPids();

  /** For each proxy process, in the order of {@link #proxyPids()}: milliseconds from its start until ready. */
  List<Long> startToReadyMillis();

  @Override
  void close();
}
