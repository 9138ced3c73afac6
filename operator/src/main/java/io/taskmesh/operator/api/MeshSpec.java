package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/**
 * The mesh settings of a TaskService. The keys and ranges are those of the sidecar's config
 * (mesh-config), which also validates them and fills in defaults when the operator renders the
 * proxy config; a test checks that every key here is one mesh-config accepts.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = MeshSpec.PER_TRY_WITHIN_TIMEOUT, reason = "FieldValueInvalid", fieldPath = ".retries.perTryTimeout",
    message = "retries.perTryTimeout must not exceed timeout: the call's deadline would end every try first")
public class MeshSpec {
  static final String DURATION = "^(0|[0-9]{1,9}(ms|s|m|h))$";
  /** "0" means no limit, at either level. */
  static final String PER_TRY_WITHIN_TIMEOUT = "!has(self.timeout) || self.timeout == '0' || !has(self.retries) "
      + "|| !has(self.retries.perTryTimeout) || self.retries.perTryTimeout == '0' "
      + "|| duration(self.retries.perTryTimeout) <= duration(self.timeout)";

  /** The gRPC status codes a call may be retried on (OK is not a failure). */
  public enum GrpcCode {
    CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
    RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
    DATA_LOSS, UNAUTHENTICATED
  }

  public enum LoadBalancer { P2C_EWMA, ROUND_ROBIN }

  public enum Exporter { otlp, zipkin, none }

  /** Whether this service's sidecars still take plaintext from callers once the mesh runs mTLS. */
  public enum Mtls { strict, permissive }

  @JsonPropertyDescription("Deadline of calls this service makes when the caller sets none, e.g. 5s")
  @Pattern(DURATION)
  @Size(max = 11)
  public String timeout;

  public Retries retries;
  public CircuitBreaker circuitBreaker;
  public OutlierDetection outlierDetection;

  @JsonPropertyDescription("Inbound token bucket of each pod; absent means no limit")
  public RateLimit rateLimit;

  @JsonPropertyDescription("P2C_EWMA (default) or ROUND_ROBIN")
  public LoadBalancer loadBalancer;

  public Tracing tracing;

  @JsonPropertyDescription("Inbound mTLS of this service's sidecars: strict refuses plaintext callers (pods outside the"
      + " mesh), permissive accepts them beside mTLS ones. Absent: the mesh-wide mode (chart value identity.mtlsMode)."
      + " Needs the mesh's identity on")
  public Mtls mtls;

  @JsonPropertyDescription("Per-upstream overrides of timeout, retries, circuitBreaker, outlierDetection, loadBalancer")
  @Size(max = 64)
  public Map<String, Upstream> upstreams;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Retries {
    @JsonPropertyDescription("Tries including the first; 1 means no retry")
    @Min(1)
    @Max(10)
    public Integer attempts;

    @Pattern(DURATION)
    @Size(max = 11)
    public String perTryTimeout;

    @JsonPropertyDescription("gRPC status names that may be retried, e.g. UNAVAILABLE")
    @Size(max = 16)
    public List<GrpcCode> retryOn;

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
    @Max(100000)
    public Integer minimumCalls;

    @Min(1)
    @Max(100000)
    public Integer slidingWindow;

    @Pattern(DURATION)
    @Size(max = 11)
    public String waitInOpen;

    @Min(1)
    @Max(1000)
    public Integer permittedInHalfOpen;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class OutlierDetection {
    @Min(1)
    @Max(1000)
    public Integer consecutiveFailures;

    @Pattern(DURATION)
    @Size(max = 11)
    public String baseEjection;

    @Min(0)
    @Max(100)
    public Integer maxEjectionPercent;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class RateLimit {
    @JsonPropertyDescription("Sustained rate per pod, at most 100000")
    @Min(0.001)
    @Max(100000)
    public Double requestsPerSecond;

    @Min(1)
    @Max(1000000)
    public Integer burst;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Tracing {
    public Exporter exporter;

    @Pattern("^https?://.+")
    @Size(max = 2048)
    public String endpoint;

    @Min(0)
    @Max(1)
    public Double samplingRatio;

    @JsonPropertyDescription("tracecontext, baggage, b3, b3multi")
    @Size(max = 4)
    public List<String> propagators;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(value = MeshSpec.PER_TRY_WITHIN_TIMEOUT, reason = "FieldValueInvalid", fieldPath = ".retries.perTryTimeout",
      message = "retries.perTryTimeout must not exceed timeout: the call's deadline would end every try first")
  public static class Upstream {
    @Pattern(DURATION)
    @Size(max = 11)
    public String timeout;

    public Retries retries;
    public CircuitBreaker circuitBreaker;
    public OutlierDetection outlierDetection;

    public LoadBalancer loadBalancer;
  }
}
