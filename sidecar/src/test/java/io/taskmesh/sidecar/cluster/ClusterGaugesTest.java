package io.taskmesh.sidecar.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.UpstreamPolicy;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A cluster's endpoint gauges live exactly as long as the cluster: none left behind for a dropped service. */
class ClusterGaugesTest {
  private static final UpstreamPolicy POLICY = MeshConfigParser.parse("""
      service: caller
      inbound: {port: 0, appPort: 1}
      outbound: {port: 0}
      admin: {port: 0}
      """).outbound().policyFor("orders");

  @Test
  void aForgottenClustersGaugesAreRemovedWhileTheOthersStay() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ClusterGauges gauges = new ClusterGauges(registry);
    try (NettyResources netty = new NettyResources(1)) {
      ClusterManager clusters = new ClusterManager(new UpstreamConnector(netty), service -> POLICY,
          gauges::created, gauges::removed);
      clusters.onEndpoints("orders", List.of(new EndpointAddress("127.0.0.1", 1), new EndpointAddress("127.0.0.1", 2)));
      clusters.onEndpoints("billing", List.of(new EndpointAddress("127.0.0.1", 3)));
      assertThat(registry.get("taskmesh.endpoints").tag("service", "orders").tag("state", "active").gauge().value())
          .isEqualTo(2.0);

      clusters.remove("orders");

      assertThat(registry.find("taskmesh.endpoints").tag("service", "orders").gauges()).isEmpty();
      assertThat(registry.get("taskmesh.endpoints").tag("service", "billing").tag("state", "active").gauge().value())
          .isEqualTo(1.0);
    }
  }
}
