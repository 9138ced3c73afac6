package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.proxytest.Chunk;
import io.taskmesh.sidecar.proxytest.FloodGrpc;
import io.taskmesh.sidecar.proxytest.FloodRequest;
import io.taskmesh.sidecar.support.MeshFixture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** End-to-end flow control: a receiver that stops reading stops the sender; the proxy does not buffer on. */
class FlowControlTest {
  private static final int CHUNK_BYTES = 16 * 1024;
  /** 16 MiB: well above what the windows and socket buffers along the path hold (~1.5 MiB measured). */
  private static final long BOUND_CHUNKS = 1_000;
  /** The server gives up here, so a broken proxy fails the test instead of running out of memory. */
  private static final long SERVER_CAP_CHUNKS = 20_000;

  private final MeshFixture mesh = new MeshFixture();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicBoolean serverCancelled = new AtomicBoolean();

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void aReceiverThatStopsReadingStopsTheSenderThroughTheProxy() throws Exception {
    Server flood = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new FloodService()).build().start();
    mesh.closeLater(() -> flood.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
    Sidecar clientSide = mesh.sidecar(MeshConfigParser.parse("""
        service: caller
        inbound: {port: 0, appPort: 1}
        outbound: {port: 0, discovery: {static: {flood: ["127.0.0.1:%d"]}}}
        admin: {port: 0}
        """.formatted(flood.getPort())));
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", clientSide.outboundPort())
        .usePlaintext().overrideAuthority("flood").build();
    mesh.closeLater(() -> channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));

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
    long[] last = {-1};
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
      long now = sent.get();
      boolean settled = now == last[0];
      last[0] = now;
      return settled;
    });
    assertThat(sent.get()).as("chunks the server could send while nobody read").isLessThan(BOUND_CHUNKS);

    long stalledAt = sent.get();
    call.get().request(100);
    await().atMost(Duration.ofSeconds(30)).until(() -> received.get() == 101);
    assertThat(sent.get()).as("reading again lets the sender go on").isGreaterThan(stalledAt);

    call.get().cancel("done", null);
    await().atMost(Duration.ofSeconds(30)).until(serverCancelled::get);
  }

  /** Sends while the transport says ready, as a well-behaved streaming server does. */
  private final class FloodService extends FloodGrpc.FloodImplBase {
    @Override
    public void stream(FloodRequest request, StreamObserver<Chunk> responses) {
      ServerCallStreamObserver<Chunk> call = (ServerCallStreamObserver<Chunk>) responses;
      Chunk chunk = Chunk.newBuilder().setData(ByteString.copyFrom(new byte[request.getChunkBytes()])).build();
      call.setOnCancelHandler(() -> serverCancelled.set(true));
      call.setOnReadyHandler(() -> {
        while (call.isReady() && !call.isCancelled() && sent.get() < SERVER_CAP_CHUNKS) {
          call.onNext(chunk);
          sent.incrementAndGet();
        }
      });
    }
  }
}
