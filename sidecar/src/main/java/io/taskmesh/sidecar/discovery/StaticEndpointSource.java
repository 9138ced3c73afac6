package io.taskmesh.sidecar.discovery;

import java.util.List;
import java.util.Map;

/** The {@code outbound.discovery.static} map: every service's endpoints, announced once at start. */
public final class StaticEndpointSource implements EndpointSource {
  private final Map<String, List<String>> endpoints;

  public StaticEndpointSource(Map<String, List<String>> endpoints) {
    this.endpoints = Map.copyOf(endpoints);
  }

  @Override
  public void start(EndpointListener listener) {
    endpoints.forEach((service, addresses) ->
        listener.onEndpoints(service, addresses.stream().map(EndpointAddress::parse).toList()));
  }
}
