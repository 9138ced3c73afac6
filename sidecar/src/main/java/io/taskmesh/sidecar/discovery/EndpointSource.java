package io.taskmesh.sidecar.discovery;

/** Where clusters learn their endpoints: the static map of the config, or the control plane. */
public interface EndpointSource extends AutoCloseable {
  void start(EndpointListener listener);

  @Override
  default void close() {}
}
