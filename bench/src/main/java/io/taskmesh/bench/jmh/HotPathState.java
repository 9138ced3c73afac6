package io.taskmesh.bench.jmh;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.taskmesh.config.LoadBalancerPolicy;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.UpstreamPolicy;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.cluster.UpstreamConnector;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import java.util.ArrayList;
import java.util.List;

/** What the sidecar's hot path works on: a typical gRPC request's headers and a mesh of clusters. */
final class HotPathState {
  /** The clusters an outbound sidecar knows in the benchmarks; routing looks one of them up. */
  static final int SERVICES = 50;

  private HotPathState() {}

  /** The request headers grpc-java sends for a unary call, as the sidecar decodes them. */
  static Http2Headers grpcRequestHeaders(String authority) {
    return new DefaultHttp2Headers()
        .method(AsciiString.cached("POST"))
        .scheme(AsciiString.cached("http"))
        .path(AsciiString.of("/taskservice.TaskService/GetTask"))
        .authority(AsciiString.of(authority))
        .add(AsciiString.cached("content-type"), AsciiString.cached("application/grpc"))
        .add(AsciiString.cached("te"), AsciiString.cached("trailers"))
        .add(AsciiString.cached("user-agent"), AsciiString.of("grpc-java-netty/1.85.0"))
        .add(AsciiString.cached("grpc-accept-encoding"), AsciiString.cached("gzip"))
        .add(AsciiString.cached("grpc-timeout"), AsciiString.of("9999873u"));
  }

  /**
   * {@code services} clusters named {@code service-0} … plus {@code task-service}, each with
   * {@code endpointsEach} endpoints. Nothing connects: endpoints open connections only for a request.
   */
  /** The default upstream policy with the given balancer. */
  static UpstreamPolicy policy(LoadBalancerPolicy balancer) {
    UpstreamPolicy defaults = MeshConfig.defaults("bench").outbound().defaults();
    return new UpstreamPolicy(defaults.timeout(), defaults.retries(), defaults.circuitBreaker(),
        defaults.outlierDetection(), balancer);
  }

  static ClusterManager clusters(NettyResources netty, int endpointsEach, LoadBalancerPolicy policy) {
    UpstreamPolicy upstream = policy(policy);
    ClusterManager clusters = new ClusterManager(new UpstreamConnector(netty), service -> upstream, cluster -> { }, cluster -> { });
    for (int s = 0; s < SERVICES; s++) {
      clusters.onEndpoints(s == 0 ? "task-service" : "service-" + s, addresses(endpointsEach, 20_000 + s * 100));
    }
    return clusters;
  }

  static List<EndpointAddress> addresses(int count, int firstPort) {
    List<EndpointAddress> addresses = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      addresses.add(new EndpointAddress("10.0.0." + (i + 1), firstPort + i));
    }
    return addresses;
  }
}
