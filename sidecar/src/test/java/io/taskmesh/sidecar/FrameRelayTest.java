package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.netty.buffer.PooledByteBufAllocator;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.proxytest.Chunk;
import io.taskmesh.sidecar.proxytest.FloodGrpc;
import io.taskmesh.sidecar.proxytest.FloodRequest;
import io.taskmesh.sidecar.proxytest.PatienceGrpc;
import io.taskmesh.sidecar.proxytest.WaitReply;
import io.taskmesh.sidecar.proxytest.WaitRequest;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.PatienceBackend;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The frame relay through a sidecar pair (no channel per stream): a side that stops reading stops the other through
 * the HTTP/2 windows, with the proxies' buffers bounded by them, both ways; and no stream leaves state behind in
 * either proxy, however its call ended.
 */
class FrameRelayTest {
  private static final int CHUNK_BYTES = 16 * 1024;
  /** 16 MiB: well above what the windows and socket buffers along the path hold (a few MiB). */
  private static final long BOUND_CHUNKS = 1_000;
  /** A sender gives up here (320 MiB), so a broken relay fails the test instead of running out of memory. */
  private static final long SENDER_CAP_CHUNKS = 20_000;
  /** More pooled memory than this in the proxies while a side is stalled means they buffer past the windows. */
  private static final long MEMORY_BOUND_BYTES = 48L * 1024 * 1024;

  private final MeshFixture mesh = new MeshFixture();
  private final AtomicLong serverSent = new AtomicLong();
  private final AtomicLong serverReceived = new AtomicLong();
  private final AtomicBoolean serverCancelled = new AtomicBoolean();
  private final AtomicReference<ServerCallStreamObserver<Chunk>> sink = new AtomicReference<>();
  private Sidecar clientSide;
  private Sidecar serverSide;

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void aCallerThatStopsReadingHoldsBackTheServerAndTheProxiesBufferOnlyTheWindows() throws Exception {
    ManagedChannel channel = floodPair();
    long memoryBefore = proxyMemory();
    AtomicLong received = new AtomicLong();
    AtomicReference<ClientCallStreamObserver<FloodRequest>> call = new AtomicReference<>();
    FloodGrpc.newStub(channel).stream(FloodRequest.newBuilder().setChunkBytes(CHUNK_BYTES).build(),
        new ClientResponseObserver<FloodRequest, Chunk>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<FloodRequest> requestStream) {
            call.set(requestStream);
            requestStream.disableAutoRequestWithInitial(1); // take one message, then stop reading
          }

          @Override
          public void onNext(Chunk chunk) {
            received.incrementAndGet();
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });

    await().atMost(Duration.ofSeconds(30)).until(() -> received.get() == 1);
    awaitSettled(serverSent::get);
    assertThat(serverSent.get()).as("chunks the server could send while nobody read").isLessThan(BOUND_CHUNKS);
    assertThat(proxyMemory() - memoryBefore).as("pooled bytes the proxies hold for the stalled stream")
        .isLessThan(MEMORY_BOUND_BYTES);

    long stalledAt = serverSent.get();
    call.get().request(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> received.get() == 201);
    assertThat(serverSent.get()).as("reading again lets the server go on").isGreaterThan(stalledAt);

    call.get().cancel("done", null);
    await().atMost(Duration.ofSeconds(30)).until(serverCancelled::get);
    awaitNoStreamLeft();
  }

  @Test
  void aServerThatStopsReadingHoldsBackTheCallerAndTheProxiesBufferOnlyTheWindows() throws Exception {
    ManagedChannel channel = floodPair();
    long memoryBefore = proxyMemory();
    AtomicLong sent = new AtomicLong();
    Chunk chunk = Chunk.newBuilder().setData(ByteString.copyFrom(new byte[CHUNK_BYTES])).build();
    FloodGrpc.newStub(channel).sink(new ClientResponseObserver<Chunk, Chunk>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<Chunk> requests) {
        requests.setOnReadyHandler(() -> { // sends while the transport says ready, as a well-behaved client does
          while (requests.isReady() && sent.get() < SENDER_CAP_CHUNKS) {
            requests.onNext(chunk);
            sent.incrementAndGet();
          }
        });
      }

      @Override
      public void onNext(Chunk reply) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });

    await().atMost(Duration.ofSeconds(30)).until(() -> serverReceived.get() == 1);
    awaitSettled(sent::get);
    assertThat(sent.get()).as("chunks the caller could send while the server read none").isLessThan(BOUND_CHUNKS);
    assertThat(proxyMemory() - memoryBefore).as("pooled bytes the proxies hold for the stalled stream")
        .isLessThan(MEMORY_BOUND_BYTES);

    long stalledAt = sent.get();
    sink.get().request(Integer.MAX_VALUE);
    await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() > stalledAt + 200);
    assertThat(serverReceived.get()).as("reading again lets the caller go on").isGreaterThan(stalledAt);
    awaitNoStreamLeftAfter(() -> sink.get().onError(Status.ABORTED.asRuntimeException()));
  }

  @Test
  void noStreamIsLeftInEitherProxyAfterAnsweredCancelledAndExpiredCalls() throws Exception {
    PatienceBackend app = new PatienceBackend("app", 300);
    mesh.closeLater(app);
    ManagedChannel channel = pair("patience", app.port());
    PatienceGrpc.PatienceBlockingStub stub = PatienceGrpc.newBlockingStub(channel);

    List<Context.CancellableContext> watches = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Context.CancellableContext watch = Context.current().withCancellation();
      watches.add(watch);
      watch.run(() -> {
        Iterator<WaitReply> replies = PatienceGrpc.newBlockingStub(channel).watch(WaitRequest.getDefaultInstance());
        assertThat(replies).isNotNull();
      });
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> app.openWatches() == 10);
    assertThat(clientSide.streamsInProgress()).as("the client sidecar relays each open watch, both sides")
        .isGreaterThanOrEqualTo(20);
    assertThat(serverSide.streamsInProgress()).as("so does the server sidecar").isGreaterThanOrEqualTo(20);

    for (int i = 0; i < 20; i++) {
      assertThat(stub.withDeadlineAfter(20, TimeUnit.SECONDS).wait(WaitRequest.getDefaultInstance()).getServedBy())
          .isEqualTo("app");
    }
    int expired = 0;
    for (int i = 0; i < 10; i++) {
      try {
        stub.withDeadlineAfter(50, TimeUnit.MILLISECONDS).wait(WaitRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        expired++;
      }
    }
    assertThat(expired).as("calls past their deadline").isEqualTo(10);
    watches.forEach(watch -> watch.cancel(null)); // RST_STREAM(CANCEL) from the client, through both proxies
    await().atMost(Duration.ofSeconds(30)).until(() -> app.openWatches() == 0);
    awaitNoStreamLeft();
  }

  private void awaitNoStreamLeftAfter(Runnable end) {
    end.run();
    awaitNoStreamLeft();
  }

  private void awaitNoStreamLeft() {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(clientSide.streamsInProgress()).as("streams the client sidecar still holds").isZero();
      assertThat(serverSide.streamsInProgress()).as("streams the server sidecar still holds").isZero();
    });
  }

  /** Waits until {@code counter} stops moving for a poll interval. */
  private static void awaitSettled(LongSupplier counter) {
    long[] last = {-1};
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
      long now = counter.getAsLong();
      boolean settled = now == last[0];
      last[0] = now;
      return settled;
    });
  }

  /** Pooled bytes of the proxies' Netty (grpc-java, in the test's clients and servers, has its own shaded one). */
  private static long proxyMemory() {
    return PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory()
        + PooledByteBufAllocator.DEFAULT.metric().usedHeapMemory();
  }

  private ManagedChannel floodPair() throws Exception {
    Server flood = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new FloodService()).build().start();
    mesh.closeLater(() -> flood.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
    return pair("flood", flood.getPort());
  }

  /** Client sidecar → server sidecar → the app at {@code appPort}, named {@code service}; a channel into it. */
  private ManagedChannel pair(String service, int appPort) {
    serverSide = mesh.sidecar(MeshConfigParser.parse("""
        service: %s
        inbound: {port: 0, appPort: %d}
        outbound: {port: 0}
        admin: {port: 0}
        """.formatted(service, appPort)));
    clientSide = mesh.sidecar(MeshConfigParser.parse("""
        service: caller
        inbound: {port: 0, appPort: 1}
        outbound: {port: 0, discovery: {static: {%s: ["127.0.0.1:%d"]}}}
        admin: {port: 0}
        """.formatted(service, serverSide.inboundPort())));
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", clientSide.outboundPort())
        .usePlaintext().overrideAuthority(service).build();
    mesh.closeLater(() -> channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
    return channel;
  }

  /** Sends while the transport says ready; takes one chunk of a sink, then only what the test asks for. */
  private final class FloodService extends FloodGrpc.FloodImplBase {
    @Override
    public void stream(FloodRequest request, StreamObserver<Chunk> responses) {
      ServerCallStreamObserver<Chunk> call = (ServerCallStreamObserver<Chunk>) responses;
      Chunk chunk = Chunk.newBuilder().setData(ByteString.copyFrom(new byte[request.getChunkBytes()])).build();
      call.setOnCancelHandler(() -> serverCancelled.set(true));
      call.setOnReadyHandler(() -> {
        while (call.isReady() && !call.isCancelled() && serverSent.get() < SENDER_CAP_CHUNKS) {
          call.onNext(chunk);
          serverSent.incrementAndGet();
        }
      });
    }

    @Override
    public StreamObserver<Chunk> sink(StreamObserver<Chunk> responses) {
      ServerCallStreamObserver<Chunk> call = (ServerCallStreamObserver<Chunk>) responses;
      call.disableAutoRequest();
      call.request(1);
      sink.set(call);
      return new StreamObserver<>() {
        @Override
        public void onNext(Chunk chunk) {
          serverReceived.incrementAndGet();
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          call.onNext(Chunk.getDefaultInstance());
          call.onCompleted();
        }
      };
    }
  }
}
