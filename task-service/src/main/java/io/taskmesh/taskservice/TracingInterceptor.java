package io.taskmesh.taskservice;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.Set;

/**
 * The app's own span for each call (SERVER kind), child of the W3C trace context the call arrives with —
 * in a mesh, the server sidecar's span — so a trace shows the time spent in the app itself.
 */
final class TracingInterceptor implements ServerInterceptor {
  private static final Set<Status.Code> ERRORS = Set.of(Status.Code.UNKNOWN, Status.Code.DEADLINE_EXCEEDED,
      Status.Code.UNIMPLEMENTED, Status.Code.INTERNAL, Status.Code.UNAVAILABLE, Status.Code.DATA_LOSS);

  private final OpenTelemetry openTelemetry;
  private final Tracer tracer;

  TracingInterceptor(OpenTelemetry openTelemetry) {
    this.openTelemetry = openTelemetry;
    this.tracer = openTelemetry.getTracer("io.taskmesh.taskservice");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Context parent = openTelemetry.getPropagators().getTextMapPropagator()
        .extract(Context.current(), headers, MetadataGetter.INSTANCE);
    String fullMethod = call.getMethodDescriptor().getFullMethodName();
    Span span = tracer.spanBuilder(fullMethod)
        .setParent(parent)
        .setSpanKind(SpanKind.SERVER)
        .setAttribute("rpc.system", "grpc")
        .setAttribute("rpc.service", call.getMethodDescriptor().getServiceName())
        .setAttribute("rpc.method", call.getMethodDescriptor().getBareMethodName())
        .startSpan();
    Context context = parent.with(span);
    ServerCall<Q, R> traced = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        span.setAttribute("rpc.grpc.status_code", status.getCode().value());
        if (ERRORS.contains(status.getCode())) {
          span.setStatus(StatusCode.ERROR, status.getCode() + ": " + status.getDescription());
        }
        span.end();
        super.close(status, trailers);
      }
    };
    ServerCall.Listener<Q> listener;
    try (Scope ignored = context.makeCurrent()) {
      listener = next.startCall(traced, headers);
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        try (Scope ignored = context.makeCurrent()) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        try (Scope ignored = context.makeCurrent()) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        span.setAttribute("rpc.grpc.status_code", Status.Code.CANCELLED.value());
        span.end();
        super.onCancel();
      }
    };
  }

  private enum MetadataGetter implements TextMapGetter<Metadata> {
    INSTANCE;

    @Override
    public Iterable<String> keys(Metadata carrier) {
      return carrier.keys();
    }

    @Override
    public String get(Metadata carrier, String key) {
      return carrier == null ? null : carrier.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
    }
  }
}
