package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import java.util.List;
import java.util.Map;

/**
 * The mesh settings of a TaskService. The keys and ranges are those of the sidecar's config
 * (mesh-config), which also validates them and fills in defaults when the operator renders the
 * proxy config; a test checks that every key here is one mesh-config accepts.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MeshSpec {
  static final String DURATION = "^(0|[0-9]{1,9}(ms|s|m|h))$";

  @JsonPropertyDescription("Deadline of calls this service makes when the caller sets none, e.g. 5s")
  @Pattern(DURATION)
  public String timeout;

  public Retries retries;
  public CircuitBreaker circuitBreaker;
  public OutlierDetection outlierDetection;

  @JsonPropertyDescription("Inbound token bucket of each pod; absent means no limit")
  public RateLimit rateLimit;

  @JsonPropertyDescription("P2C_EWMA (default) or ROUND_ROBIN")
  @Pattern("^(P2C_EWMA|ROUND_ROBIN)$")
  public String loadBalancer;

  public Tracing tracing;

  @JsonPropertyDescription("Per-upstream overrides of timeout, retries, circuitBreaker, outlierDetection, loadBalancer")
  public Map<String, Upstream> upstreams;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Retries {
    @JsonPropertyDescription("Tries including the first; 1 means no retry")
    @Min(1)
    @Max(10)
    public Integer attempts;

    @Pattern(DURATION)
    public String perTryTimeout;

    @JsonPropertyDescription("gRPC status names that may be retried, e.g. UNAVAILABLE")
    public List<String> retryOn;

    @JsonPropertyDescription("Retries allowed as a percentage of requests")
    @Min(0)
    @Max(100)
    public Integer budgetPercent;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class CircuitBreaker {
    @Min(1)
    @Max(100)
    public Integer failureRateThreshold;

    @Min(1)
    public Integer minimumCalls;

    @Min(1)
    public Integer slidingWindow;

    @Pattern(DURATION)
    public String waitInOpen;

    @Min(1)
    public Integer permittedInHalfOpen;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class OutlierDetection {
    @Min(1)
    public Integer consecutiveFailures;

    @Pattern(DURATION)
    public String baseEjection;

    @Min(0)
    @Max(100)
    public Integer maxEjectionPercent;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class RateLimit {
    @Min(0.001)
    public Double requestsPerSecond;

    @Min(1)
    public Integer burst;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Tracing {
    @Pattern("^(otlp|zipkin|none)$")
    public String exporter;

    @Pattern("^https?://.+")
    public String endpoint;

    @Min(0)
    @Max(1)
    public Double samplingRatio;

    public List<String> propagators;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Upstream {
    @Pattern(DURATION)
    public String timeout;

    public Retries retries;
    public CircuitBreaker circuitBreaker;
    public OutlierDetection outlierDetection;

    @Pattern("^(P2C_EWMA|ROUND_ROBIN)$")
    public String loadBalancer;
  }
}
