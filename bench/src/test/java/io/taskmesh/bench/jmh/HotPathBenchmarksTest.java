package io.taskmesh.bench.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The JMH benchmarks measure real work: each benchmark method, called once outside JMH, returns what the
 * hot path would. (JMH itself never runs in the build; see bench/README.md.)
 */
class HotPathBenchmarksTest {

  @Test
  void routeBenchmarkFindsTheClusterForEverySpellingOfTheAuthority() {
    for (String authority : new String[] {"task-service", "task-service.default.svc.cluster.local:50051"}) {
      RouteBenchmark benchmark = new RouteBenchmark();
      benchmark.authority = authority;
      benchmark.setUp();
      try {
        assertThat(benchmark.route()).hasValueSatisfying(route -> assertThat(route.service()).isEqualTo("task-service"));
      } finally {
        benchmark.tearDown();
      }
    }
  }

  @Test
  void balancerBenchmarkPicksAnEndpointOfItsCluster() {
    BalancerBenchmark benchmark = new BalancerBenchmark();
    benchmark.endpoints = 3;
    benchmark.setUp();
    try {
      assertThat(benchmark.p2cEwma()).isNotNull();
      assertThat(benchmark.roundRobin()).isNotNull();
      assertThat(benchmark.clusterChoose()).isPresent();
    } finally {
      benchmark.tearDown();
    }
  }

  @Test
  void grpcTimeoutBenchmarkParsesAndFormats() {
    GrpcTimeoutBenchmark benchmark = new GrpcTimeoutBenchmark();

    assertThat(benchmark.parse()).hasValueSatisfying(timeout -> assertThat(timeout.toMillis()).isEqualTo(9_999));
    assertThat(benchmark.format().toString()).isEqualTo("9987655u");
  }

  @Test
  void metricsBenchmarkRecordsIntoTheRequestMeters() {
    MetricsBenchmark benchmark = new MetricsBenchmark();
    benchmark.setUp();

    benchmark.onComplete();
    benchmark.onComplete();

    assertThat(benchmark.requestsCounted()).isEqualTo(2);
  }
}
