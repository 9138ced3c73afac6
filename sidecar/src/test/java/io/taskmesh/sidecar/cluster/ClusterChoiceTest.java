package io.taskmesh.sidecar.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.UpstreamPolicy;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The endpoint a retry goes to. */
class ClusterChoiceTest {
  private static final UpstreamPolicy POLICY = MeshConfigParser.parse("""
      service: caller
      inbound: {port: 0, appPort: 1}
      outbound: {port: 0, defaults: {loadBalancer: ROUND_ROBIN}}
      admin: {port: 0}
      """).outbound().policyFor("orders");

  @Test
  void aTriedEndpointAnnouncedAgainWithAnotherIdentityIsStillAvoided() {
    EndpointAddress goingAway = new EndpointAddress("10.0.0.1", 50051,
        Optional.of(new SpiffeId("cluster.local", "default", "orders")));
    EndpointAddress other = new EndpointAddress("10.0.0.2", 50051,
        Optional.of(new SpiffeId("cluster.local", "default", "orders")));
    try (NettyResources netty = new NettyResources(1)) {
      Cluster cluster = new Cluster("orders", new UpstreamConnector(netty), POLICY);
      cluster.update(List.of(goingAway, other));
      Endpoint tried = cluster.endpoints().get(0);
      assertThat(tried.address()).isEqualTo(goingAway);

      // its pod is being deleted: discovery no longer knows its identity, the same place comes as a new endpoint
      cluster.update(List.of(new EndpointAddress("10.0.0.1", 50051), other));
      assertThat(cluster.endpoints()).noneMatch(endpoint -> endpoint == tried);

      for (int pick = 0; pick < 10; pick++) {
        assertThat(cluster.choose(Set.of(tried)).orElseThrow().address()).as("pick %d", pick).isEqualTo(other);
      }
    }
  }
}
