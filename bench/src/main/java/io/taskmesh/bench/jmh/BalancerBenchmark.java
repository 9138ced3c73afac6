package io.taskmesh.bench.jmh;

import io.taskmesh.config.LoadBalancerPolicy;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.Endpoint;
import io.taskmesh.sidecar.cluster.P2cEwmaBalancer;
import io.taskmesh.sidecar.cluster.RoundRobinBalancer;
import io.taskmesh.sidecar.cluster.UpstreamConnector;
import java.util.List;
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

/** One load-balancer pick per request: the balancers alone, and a cluster's choice (ejection check included). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BalancerBenchmark {
  @Param({"1", "3", "10"})
  public int endpoints;

  private NettyResources netty;
  private Cluster cluster;
  private List<Endpoint> active;
  private final P2cEwmaBalancer p2c = new P2cEwmaBalancer();
  private final RoundRobinBalancer roundRobin = new RoundRobinBalancer();

  @Setup
  public void setUp() {
    netty = new NettyResources(1);
    cluster = new Cluster("task-service", new UpstreamConnector(netty), HotPathState.policy(LoadBalancerPolicy.P2C_EWMA));
    cluster.update(HotPathState.addresses(endpoints, 50_051));
    active = cluster.endpoints();
    for (int i = 0; i < active.size(); i++) {
      active.get(i).recordLatency(1_000_000L + i * 100_000L); // unequal latencies, as in a real mesh
    }
  }

  @TearDown
  public void tearDown() {
    netty.close();
  }

  @Benchmark
  public Endpoint p2cEwma() {
    return p2c.choose(active);
  }

  @Benchmark
  public Endpoint roundRobin() {
    return roundRobin.choose(active);
  }

  @Benchmark
  public Optional<Endpoint> clusterChoose() {
    return cluster.choose();
  }
}
