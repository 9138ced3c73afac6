package io.taskmesh.operator.discovery;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Refuses a call over {@code max} open at once on one connection (known by its peer's address and port) with a
 * RESOURCE_EXHAUSTED that names the cap. A sidecar needs one stream; the HTTP/2 SETTINGS limit above this one
 * stops a peer that ignores the refusal at the transport.
 */
final class StreamsPerConnection implements ServerInterceptor {
  static final String REASON = "streams_per_connection";
  private final int max;
  private final DiscoveryMetrics metrics;
  private final Map<SocketAddress, Integer> open = new ConcurrentHashMap<>();

  StreamsPerConnection(int max, DiscoveryMetrics metrics) {
    this.max = max;
    this.metrics = metrics;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    int now = open.merge(peer, 1, Integer::sum);
    AtomicBoolean released = new AtomicBoolean();
    Runnable release = () -> {
      if (released.compareAndSet(false, true)) {
        open.computeIfPresent(peer, (key, count) -> count == 1 ? null : count - 1);
      }
    };
    if (now > max) {
      release.run();
      call.close(metrics.refuse(REASON, Status.RESOURCE_EXHAUSTED.withDescription(
          "streams per connection: at most " + max + " open at once (cap " + REASON + ")")), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      @Override
      public void onComplete() {
        release.run();
        super.onComplete();
      }

      @Override
      public void onCancel() {
        release.run();
        super.onCancel();
      }
    };
  }
}
