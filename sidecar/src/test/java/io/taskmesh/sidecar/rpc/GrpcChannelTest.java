package io.taskmesh.sidecar.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import io.taskmesh.sidecar.NettyResources;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The proxy's own gRPC client against grpc-java's server, over real loopback sockets. */
class GrpcChannelTest {
  private static final GrpcMethod<HealthCheckRequest, HealthCheckResponse> CHECK =
      GrpcMethod.of("grpc.health.v1.Health", "Check", HealthCheckResponse.parser());
  private static final GrpcMethod<HealthCheckRequest, HealthCheckResponse> WATCH =
      GrpcMethod.of("grpc.health.v1.Health", "Watch", HealthCheckResponse.parser());
  private static final Duration BOUND = Duration.ofSeconds(30);

  private final NettyResources netty = new NettyResources(1);
  private final HealthStatusManager health = new HealthStatusManager();
  private final List<Metadata> headersSeen = new CopyOnWriteArrayList<>();
  private Server server;

  @AfterEach
  void stop() throws InterruptedException {
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    netty.close();
  }

  @Test
  void aUnaryCallGetsTheServersAnswerAndSendsItsDeadlineAndMetadata() throws IOException {
    start(0, health.getHealthService());
    try (GrpcChannel channel = GrpcChannel.plaintext(netty, "127.0.0.1", server.getPort())) {
      HealthCheckResponse answer = channel.unary(CHECK, HealthCheckRequest.getDefaultInstance(),
          CallSettings.deadline(Duration.ofSeconds(7)).withHeader("taskmesh-internal", "method-catalog")).join();

      assertThat(answer.getStatus()).isEqualTo(ServingStatus.SERVING);
      Metadata seen = headersSeen.get(0);
      assertThat(seen.get(Metadata.Key.of("taskmesh-internal", Metadata.ASCII_STRING_MARSHALLER)))
          .isEqualTo("method-catalog");
      assertThat(seen.get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER))).isNotNull();
    }
  }

  @Test
  void aStatusInTrailersOnlyComesBackWithItsCodeAndDecodedMessage() throws IOException {
    start(0, new HealthGrpc.HealthImplBase() {
      @Override
      public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> responses) {
        responses.onError(Status.FAILED_PRECONDITION.withDescription("not yet: 100% ünready\nline two").asException());
      }
    });
    try (GrpcChannel channel = GrpcChannel.plaintext(netty, "127.0.0.1", server.getPort())) {
      assertThatThrownBy(() -> channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND))
          .isInstanceOfSatisfying(GrpcStatusException.class, e -> {
            assertThat(e.code()).isEqualTo(GrpcCode.FAILED_PRECONDITION);
            assertThat(e.status().message()).isEqualTo("not yet: 100% ünready\nline two");
          });
      // a method the server does not have: UNIMPLEMENTED, and the connection still serves the next call
      assertThatThrownBy(() -> channel.blockingUnary(GrpcMethod.of("grpc.health.v1.Health", "Nope",
          HealthCheckResponse.parser()), HealthCheckRequest.getDefaultInstance(), BOUND))
          .isInstanceOfSatisfying(GrpcStatusException.class, e -> assertThat(e.code()).isEqualTo(GrpcCode.UNIMPLEMENTED));
    }
  }

  @Test
  void aServerStreamDeliversEachMessageThenItsStatusWhenCancelled() throws IOException {
    start(0, health.getHealthService());
    health.setStatus("task", ServingStatus.NOT_SERVING);
    List<ServingStatus> seen = new CopyOnWriteArrayList<>();
    CompletableFuture<GrpcStatus> closed = new CompletableFuture<>();
    try (GrpcChannel channel = GrpcChannel.plaintext(netty, "127.0.0.1", server.getPort())) {
      GrpcCall<HealthCheckRequest, HealthCheckResponse> call = channel.call(WATCH, CallSettings.NONE,
          new GrpcCall.Listener<>() {
            @Override
            public void onMessage(HealthCheckResponse message) {
              seen.add(message.getStatus());
            }

            @Override
            public void onClose(GrpcStatus status) {
              closed.complete(status);
            }
          });
      call.send(HealthCheckRequest.newBuilder().setService("task").build());
      call.halfClose();
      await().atMost(BOUND).until(() -> seen.contains(ServingStatus.NOT_SERVING));
      health.setStatus("task", ServingStatus.SERVING);
      await().atMost(BOUND).until(() -> seen.contains(ServingStatus.SERVING));
      assertThat(closed).isNotDone();

      call.cancel("test done");
      assertThat(closed.join().code()).isEqualTo(GrpcCode.CANCELLED);
    }
  }

  @Test
  void aServerThatDoesNotAnswerInTimeEndsTheCallWithDeadlineExceeded() throws IOException {
    start(0, new HealthGrpc.HealthImplBase() {
      @Override
      public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> responses) {
        // never answers
      }
    });
    try (GrpcChannel channel = GrpcChannel.plaintext(netty, "127.0.0.1", server.getPort())) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(),
          Duration.ofMillis(300)))
          .isInstanceOfSatisfying(GrpcStatusException.class, e -> assertThat(e.code()).isIn(
              GrpcCode.DEADLINE_EXCEEDED));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
    }
  }

  @Test
  void noServerIsUnavailableNamingTheAddressAndAServerBackOnThePortIsReachedAgain() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    try (GrpcChannel channel = GrpcChannel.plaintext(netty, "127.0.0.1", port)) {
      assertThatThrownBy(() -> channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND))
          .isInstanceOfSatisfying(GrpcStatusException.class, e -> {
            assertThat(e.code()).isEqualTo(GrpcCode.UNAVAILABLE);
            assertThat(e.getMessage()).contains("127.0.0.1:" + port);
          });

      start(port, health.getHealthService());
      assertThat(channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND).getStatus())
          .isEqualTo(ServingStatus.SERVING);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      assertThatThrownBy(() -> channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND))
          .isInstanceOfSatisfying(GrpcStatusException.class, e -> assertThat(e.code()).isEqualTo(GrpcCode.UNAVAILABLE));

      start(port, health.getHealthService());
      assertThat(channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND).getStatus())
          .as("a new connection after the old one closed").isEqualTo(ServingStatus.SERVING);
    }
  }

  @Test
  void aConnectionTheServerRetiresWithGoAwayIsReplacedWithoutAFailedCall() throws IOException {
    AtomicInteger connections = new AtomicInteger();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .maxConnectionAge(300, TimeUnit.MILLISECONDS).maxConnectionAgeGrace(5, TimeUnit.SECONDS)
        .addTransportFilter(new ServerTransportFilter() {
          @Override
          public Attributes transportReady(Attributes attributes) {
            connections.incrementAndGet();
            return attributes;
          }
        })
        .addService(health.getHealthService()).build().start();
    try (GrpcChannel channel = GrpcChannel.plaintext(netty, "127.0.0.1", server.getPort())) {
      // every call must succeed (an exception fails the test) while the server retires connection after connection
      await().atMost(BOUND).pollInterval(Duration.ofMillis(100)).until(() -> {
        assertThat(channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND).getStatus())
            .isEqualTo(ServingStatus.SERVING);
        return connections.get() >= 3;
      });
    }
  }

  @Test
  void aClosedChannelFailsNewCallsAtOnce() throws IOException {
    start(0, health.getHealthService());
    GrpcChannel channel = GrpcChannel.plaintext(null, "127.0.0.1", server.getPort());
    assertThat(channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    channel.close();
    assertThatThrownBy(() -> channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND))
        .isInstanceOfSatisfying(GrpcStatusException.class, e -> assertThat(e.getMessage()).contains("closed"));
  }

  private void start(int port, io.grpc.BindableService service) throws IOException {
    ServerInterceptor recordHeaders = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        headersSeen.add(headers);
        return next.startCall(call, headers);
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .addService(ServerInterceptors.intercept(service, recordHeaders)).build().start();
  }
}
