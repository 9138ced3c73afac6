package io.taskmesh.sidecar.discovery;

import io.taskmesh.sidecar.route.AuthorityRouter;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.taskmesh.discovery.v1.EndpointDiscoveryGrpc;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control-plane stream of DESIGN.md: one Subscribe call naming the services this sidecar calls; each
 * message is the full endpoint set of one service. When the control plane goes away the last endpoints stay
 * in force and the client resubscribes after a jittered, growing backoff.
 */
public final class ControlPlaneEndpointSource implements EndpointSource {
  private static final Logger log = LoggerFactory.getLogger(ControlPlaneEndpointSource.class);

  private final ManagedChannel channel;
  private final SubscribeRequest request;
  private final Duration minBackoff;
  private final Duration maxBackoff;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "taskmesh-discovery");
    thread.setDaemon(true);
    return thread;
  });
  private EndpointListener listener;
  private volatile ClientCallStreamObserver<SubscribeRequest> call;
  private volatile boolean closed;
  private int failures;

  public ControlPlaneEndpointSource(String address, Node node, List<String> services, Duration minBackoff,
      Duration maxBackoff) {
    this.channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
    this.request = SubscribeRequest.newBuilder().setNode(node).addAllServices(services).build();
    this.minBackoff = minBackoff;
    this.maxBackoff = maxBackoff;
  }

  @Override
  public void start(EndpointListener endpointListener) {
    this.listener = endpointListener;
    scheduler.execute(this::subscribe);
  }

  private void subscribe() {
    if (closed) {
      return;
    }
    Map<String, Long> versions = new HashMap<>();
    EndpointDiscoveryGrpc.newStub(channel).subscribe(request, new ClientResponseObserver<SubscribeRequest, EndpointSet>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<SubscribeRequest> requestStream) {
        call = requestStream;
      }

      @Override
      public void onNext(EndpointSet set) {
        scheduler.execute(() -> {
          failures = 0;
          Long held = versions.get(set.getService());
          if (held != null && set.getVersion() < held) {
            return; // older than what this stream already gave us
          }
          versions.put(set.getService(), set.getVersion());
          // asked as "svc.ns" for another namespace; the proxy's clusters are named by the service alone
          listener.onEndpoints(AuthorityRouter.serviceName(set.getService()), set.getEndpointsList().stream()
              .filter(io.taskmesh.discovery.v1.Endpoint::getReady)
              .map(endpoint -> new EndpointAddress(endpoint.getAddress(), endpoint.getPort()))
              .toList());
        });
      }

      @Override
      public void onError(Throwable error) {
        resubscribeLater(Status.fromThrowable(error).toString());
      }

      @Override
      public void onCompleted() {
        resubscribeLater("stream completed by the control plane");
      }
    });
  }

  private void resubscribeLater(String why) {
    if (closed) {
      return;
    }
    scheduler.execute(() -> {
      long ceiling = Math.min(maxBackoff.toMillis(), minBackoff.toMillis() << Math.min(failures, 16));
      long delay = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
      failures++;
      log.warn("event=discovery_disconnected reason=\"{}\" retry_in_ms={} (keeping the last endpoints)", why, delay);
      scheduler.schedule(this::subscribe, delay, TimeUnit.MILLISECONDS);
    });
  }

  @Override
  public void close() {
    closed = true;
    ClientCallStreamObserver<SubscribeRequest> current = call;
    if (current != null) {
      current.cancel("sidecar stopping", null);
    }
    scheduler.shutdownNow();
    channel.shutdownNow();
  }
}
