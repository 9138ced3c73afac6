package io.taskmesh.sidecar.discovery;

import java.util.Locale;

/**
 * How a sidecar with a control plane names a service it calls, for its subscription and its cluster alike:
 * {@code svc} in its own namespace, {@code svc.ns} in another, so that two services of one name in two
 * namespaces never share a cluster.
 *
 * @param ownNamespace the namespace the sidecar's pod runs in (its node's)
 */
public record ServiceNames(String ownNamespace) {

  /**
   * The name for an authority or a discovery name: {@code svc}, {@code svc.ns}, {@code svc.ns.svc} or
   * {@code svc.ns.svc.cluster.local}, with or without port. Empty for an IP address: only a captured
   * connection's original destination can say which service that is.
   */
  public String of(String authorityOrName) {
    String host = authorityOrName.toLowerCase(Locale.ROOT);
    if (host.startsWith("[")) {
      return "";
    }
    int colon = host.lastIndexOf(':');
    if (colon >= 0) {
      host = host.substring(0, colon);
    }
    if (host.isEmpty() || host.chars().allMatch(c -> c == '.' || Character.isDigit(c))) {
      return "";
    }
    for (String suffix : new String[] {".svc.cluster.local", ".svc"}) {
      if (host.endsWith(suffix)) {
        host = host.substring(0, host.length() - suffix.length());
      }
    }
    String own = "." + ownNamespace;
    if (!ownNamespace.isEmpty() && host.endsWith(own) && host.indexOf('.') == host.length() - own.length()) {
      return host.substring(0, host.length() - own.length());
    }
    return host;
  }
}
