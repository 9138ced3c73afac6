package io.taskmesh.sidecar.discovery;

import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.concrete.Backend;
import io.taskmesh.sidecar.concrete.Backends;
import io.taskmesh.sidecar.discovery.OnDemandDiscovery.Resolution;
import io.taskmesh.sidecar.route.AuthorityRouter;
import io.taskmesh.sidecar.route.Route;
import io.taskmesh.sidecar.route.Router;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Outbound routing when a control plane is present: by {@code :authority} as {@link AuthorityRouter} does, but a
 * service this sidecar does not hold yet is subscribed to on the request's first use (the request waits for the
 * answer, see {@link OnDemandDiscovery}). When the authority is an IP, or names a service discovery does not know,
 * and the connection was captured, the connection's original destination ({@code ip:port}) picks the service
 * through discovery's ClusterIP map. A name nobody serves ends in no route.
 */
public final class OnDemandRouter implements Router {
  private final ClusterManager clusters;
  private final OnDemandDiscovery discovery;
  /** {@code ip:port} the app dialled, when this connection was captured. */
  private final Optional<String> originalDestination;
  /**
   * The route of the authority last asked for: a connection names one service, request after request, and the
   * route is a function of the authority alone (the cluster is looked up when the request resolves its backend).
   */
  private volatile RouteOfAuthority last = new RouteOfAuthority(null, Optional.empty());

  private record RouteOfAuthority(String authority, Optional<Route> route) {}

  public OnDemandRouter(ClusterManager clusters, OnDemandDiscovery discovery, Optional<String> originalDestination) {
    this.clusters = clusters;
    this.discovery = discovery;
    this.originalDestination = originalDestination;
  }

  /** The same router for a captured connection to {@code address} ({@code ip:port}). */
  public OnDemandRouter forConnectionTo(Optional<String> address) {
    return new OnDemandRouter(clusters, discovery, address);
  }

  @Override
  public Optional<Route> route(Http2Headers requestHeaders) {
    CharSequence authority = authorityOf(requestHeaders);
    RouteOfAuthority cached = last;
    if (cached.authority() != null && AsciiString.contentEquals(cached.authority(), authority)) {
      return cached.route();
    }
    String target = authority.toString();
    Optional<Route> route = routeTo(target);
    last = new RouteOfAuthority(target, route);
    return route;
  }

  private Optional<Route> routeTo(String target) {
    String name = discovery.names().of(target);
    if (name.isEmpty() && originalDestination.isEmpty()) {
      return Optional.empty();
    }
    String service = name.isEmpty() ? originalDestination.get() : name;
    return Optional.of(new Route(service, Backends.single(new Backend(service, 1,
        (ignored, then) -> resolve(name, then)))));
  }

  private void resolve(String name, Consumer<Optional<Cluster>> then) {
    if (name.isEmpty()) {
      byOriginalDestination(then);
      return;
    }
    discovery.touch(name);
    Optional<Cluster> held = clusters.cluster(name);
    if (held.isPresent()) {
      then.accept(held);
      return;
    }
    discovery.resolve(name, null).thenAccept(resolution -> {
      if (resolution == Resolution.FOUND) {
        then.accept(clusters.cluster(name));
      } else if (resolution == Resolution.UNKNOWN && originalDestination.isPresent()) {
        byOriginalDestination(then);
      } else {
        then.accept(Optional.empty());
      }
    });
  }

  private void byOriginalDestination(Consumer<Optional<Cluster>> then) {
    if (originalDestination.isEmpty()) {
      then.accept(Optional.empty());
      return;
    }
    discovery.serviceAt(originalDestination.get(), null).thenAccept(service -> {
      if (service.isEmpty()) {
        then.accept(Optional.empty());
      } else {
        resolve(discovery.names().of(service.get()), then); // "svc.ns" as discovery says it, named as the sidecar does
      }
    });
  }

  @Override
  public String describeTarget(Http2Headers requestHeaders) {
    return authorityOf(requestHeaders).toString();
  }

  private static CharSequence authorityOf(Http2Headers requestHeaders) {
    CharSequence authority = requestHeaders.authority();
    if (authority == null) {
      authority = requestHeaders.get("host");
    }
    return authority == null ? "" : authority;
  }
}
