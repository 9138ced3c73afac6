package io.taskmesh.sidecar.support;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.discovery.v1.EndpointDiscoveryGrpc;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.discovery.v1.InboundAuthorization;
import io.taskmesh.discovery.v1.SubscribeRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A real EndpointDiscovery gRPC server on loopback that a test tells what to announce. */
public final class FakeControlPlane implements AutoCloseable {
  private final List<SubscribeRequest> subscriptions = new CopyOnWriteArrayList<>();
  private final List<StreamObserver<EndpointSet>> subscribers = new CopyOnWriteArrayList<>();
  private final Server server;

  public FakeControlPlane(int port) {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .addService(new EndpointDiscoveryGrpc.EndpointDiscoveryImplBase() {
          @Override
          public StreamObserver<SubscribeRequest> subscribe(StreamObserver<EndpointSet> responses) {
            subscribers.add(responses);
            ((ServerCallStreamObserver<EndpointSet>) responses).setOnCancelHandler(() -> subscribers.remove(responses));
            return new StreamObserver<>() {
              @Override
              public void onNext(SubscribeRequest request) {
                subscriptions.add(request);
              }

              @Override
              public void onError(Throwable t) {
                subscribers.remove(responses);
              }

              @Override
              public void onCompleted() {
                subscribers.remove(responses);
              }
            };
          }
        })
        .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return server.getPort();
  }

  /** Every request received, on any stream, in order: the first of a stream and each re-announcement. */
  public List<SubscribeRequest> subscriptions() {
    return subscriptions;
  }

  public int subscriberCount() {
    return subscribers.size();
  }

  /** Sends every subscriber the full set of {@code service}: these ports on 127.0.0.1, all ready. */
  public void announce(String service, long version, int... ports) {
    EndpointSet.Builder set = EndpointSet.newBuilder().setService(service).setNamespace("default").setVersion(version);
    for (int port : ports) {
      set.addEndpoints(Endpoint.newBuilder().setAddress("127.0.0.1").setPort(port).setReady(true));
    }
    for (StreamObserver<EndpointSet> subscriber : subscribers) {
      synchronized (subscriber) {
        subscriber.onNext(set.build());
      }
    }
  }

  /** Sends every subscriber its own inbound authorization (as if every subscriber were {@code service}). */
  public void authorize(String service, InboundAuthorization authorization) {
    EndpointSet set = EndpointSet.newBuilder().setService(service).setAuthorization(authorization).build();
    for (StreamObserver<EndpointSet> subscriber : subscribers) {
      synchronized (subscriber) {
        subscriber.onNext(set);
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }
}
