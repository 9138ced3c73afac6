package io.taskmesh.operator.discovery;

/** A service as the cluster knows it: name and namespace. */
public record ServiceKey(String name, String namespace) {

  /** A sidecar names services as {@code svc} (its own namespace) or {@code svc.ns}. */
  public static ServiceKey resolve(String requested, String subscriberNamespace) {
    int dot = requested.indexOf('.');
    return dot < 0 ? new ServiceKey(requested, subscriberNamespace)
        : new ServiceKey(requested.substring(0, dot), requested.substring(dot + 1));
  }
}
