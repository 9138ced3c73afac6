package io.taskmesh.operator;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.taskmesh.discovery.v1.EndpointDiscoveryGrpc;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/** A sidecar's subscription, as a test sees it: every set received, and how the stream ended. */
final class DiscoveryClientFixture implements AutoCloseable {
  final List<EndpointSet> received = new CopyOnWriteArrayList<>();
  final AtomicReference<Status> ended = new AtomicReference<>();
  private final ManagedChannel channel;
  private final boolean ownsChannel;
  private final AtomicReference<ClientCallStreamObserver<SubscribeRequest>> call = new AtomicReference<>();

  DiscoveryClientFixture(int port, String podName, String namespace, String... services) {
    this(port, SubscribeRequest.newBuilder()
        .setNode(Node.newBuilder().setPodName(podName).setNamespace(namespace).setService("client").setConfigHash("abc"))
        .addAllServices(List.of(services)).build());
  }

  DiscoveryClientFixture(int port, SubscribeRequest first) {
    this(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build(), true, first);
  }

  /** A stream on a connection the test shares between several subscriptions (closing this one cancels only it). */
  DiscoveryClientFixture(ManagedChannel shared, SubscribeRequest first) {
    this(shared, false, first);
  }

  private DiscoveryClientFixture(ManagedChannel channel, boolean ownsChannel, SubscribeRequest first) {
    this.channel = channel;
    this.ownsChannel = ownsChannel;
    EndpointDiscoveryGrpc.newStub(channel).subscribe(new ClientResponseObserver<SubscribeRequest, EndpointSet>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<SubscribeRequest> stream) {
        call.set(stream);
      }

      @Override
      public void onNext(EndpointSet set) {
        received.add(set);
      }

      @Override
      public void onError(Throwable t) {
        ended.set(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        ended.set(Status.OK);
      }
    });
    send(first);
  }

  /** A later request on the same stream: replaces the subscription. */
  synchronized void send(SubscribeRequest request) {
    call.get().onNext(request);
  }

  EndpointSet latest(String service) {
    EndpointSet found = null;
    for (EndpointSet set : received) {
      if (set.getService().equals(service)) {
        found = set;
      }
    }
    return found;
  }

  void cancel() {
    call.get().cancel("test done", null);
  }

  @Override
  public void close() {
    if (!ownsChannel) {
      cancel();
      return;
    }
    channel.shutdownNow();
  }
}
