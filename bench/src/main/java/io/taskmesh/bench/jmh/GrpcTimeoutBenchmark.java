package io.taskmesh.bench.jmh;

import io.netty.util.AsciiString;
import io.taskmesh.sidecar.route.GrpcTimeout;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** The deadline header each hop reads and rewrites with the time left. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GrpcTimeoutBenchmark {
  /** What grpc-java sends for a 10 s deadline. */
  private final CharSequence header = AsciiString.of("9999873u");
  private final Duration remaining = Duration.ofNanos(9_987_654_321L);

  @Benchmark
  public Optional<Duration> parse() {
    return GrpcTimeout.parse(header);
  }

  @Benchmark
  public CharSequence format() {
    return GrpcTimeout.format(remaining);
  }
}
