package io.taskmesh.bench.jmh;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.sidecar.filter.MetricsFilter;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.filter.Outcome;
import io.taskmesh.sidecar.filter.RequestInfo;
import io.taskmesh.sidecar.route.PolicyTable;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Recording one finished request in {@code taskmesh_requests_total} and {@code
 * taskmesh_request_duration_seconds} (a Prometheus histogram), as every request does on each hop.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MetricsBenchmark {
  private PrometheusMeterRegistry registry;
  private MetricsFilter metrics;
  private RequestInfo request;
  private Outcome outcome;

  @Setup
  public void setUp() {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    metrics = new MetricsFilter(registry, MethodCatalog.NONE);
    request = new RequestInfo("outbound", "client-sidecar", "task-service", "/taskservice.TaskService/GetTask",
        System.nanoTime(), HotPathState.grpcRequestHeaders("task-service"),
        PolicyTable.of(MeshConfig.defaults("bench"), (service, then) -> then.accept(java.util.Optional.empty()))
            .outbound("task-service"), java.util.Optional.empty());
    outcome = new Outcome("OK", "10.0.0.1:50051", 1_234_567, false, Outcome.Fault.NONE);
  }

  @Benchmark
  public void onComplete() {
    metrics.onComplete(request, outcome);
  }

  /** What {@code taskmesh_requests_total} counted so far (for the test that the benchmark records). */
  double requestsCounted() {
    return registry.get("taskmesh.requests").counter().count();
  }
}
