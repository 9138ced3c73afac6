package io.taskmesh.bench.jmh;

import io.netty.handler.codec.http2.Http2Headers;
import io.taskmesh.config.LoadBalancerPolicy;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.route.AuthorityRouter;
import io.taskmesh.sidecar.route.Route;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** Outbound routing: from a request's {@code :authority} to its cluster, among {@value HotPathState#SERVICES}. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouteBenchmark {
  /** The spellings of one service name that Kubernetes clients use. */
  @Param({"task-service", "task-service.default.svc.cluster.local:50051"})
  public String authority;

  private NettyResources netty;
  private AuthorityRouter router;
  private Http2Headers headers;

  @Setup
  public void setUp() {
    netty = new NettyResources(1);
    router = new AuthorityRouter(HotPathState.clusters(netty, 3, LoadBalancerPolicy.P2C_EWMA), service -> false);
    headers = HotPathState.grpcRequestHeaders(authority);
  }

  @TearDown
  public void tearDown() {
    netty.close();
  }

  @Benchmark
  public Optional<Route> route() {
    return router.route(headers);
  }
}
