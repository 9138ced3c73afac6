package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.taskmesh.sidecar.route.GrpcTimeout;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.NeverAnsweringBackend;
import io.taskmesh.sidecar.support.RawHttp2Client;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A backend slower than the caller's deadline: the sidecar answers DEADLINE_EXCEEDED itself when the time
 * is up (the caller here is a bare HTTP/2 client that does not enforce its own deadline), forwards only
 * the time that is left, and the backend sees its call cancelled.
 */
class DeadlineTest {
  @Test
  void aBackendSlowerThanTheDeadlineGetsCancelledAndTheCallerGetsDeadlineExceededFromTheSidecar() throws Exception {
    try (NeverAnsweringBackend slow = NeverAnsweringBackend.start(); MeshFixture mesh = new MeshFixture();
        RawHttp2Client caller = new RawHttp2Client(mesh.serverSidecar(slow.port()).inboundPort())) {
      long start = System.nanoTime();
      Http2StreamFrame answer = caller.send(new DefaultHttp2Headers()
          .method("POST").scheme("http").path("/proxytest.Slow/Wait").authority(MeshFixture.SERVICE)
          .set("content-type", "application/grpc").set("te", "trailers")
          .set(GrpcTimeout.HEADER, "300m"), new byte[0]);
      long tookMillis = (System.nanoTime() - start) / 1_000_000;

      assertThat(answer).isInstanceOf(Http2HeadersFrame.class);
      DefaultHttp2Headers trailers = (DefaultHttp2Headers) ((Http2HeadersFrame) answer).headers();
      assertThat(trailers.get("grpc-status")).hasToString("4");
      assertThat(trailers.get("grpc-message").toString()).contains("server-sidecar").contains("deadline of 300 ms exceeded");
      assertThat(trailers.get("taskmesh-error").toString()).contains("reason=deadline_exceeded");
      assertThat(tookMillis).as("answered near the deadline, not at some later timeout").isLessThan(10_000);
      await("the backend sees its call cancelled").atMost(Duration.ofSeconds(30)).until(() -> slow.cancelledCalls() > 0);
      Duration forwarded = GrpcTimeout.parse(slow.lastTimeout().orElseThrow()).orElseThrow();
      assertThat(forwarded).as("only the time that was left went on").isPositive().isLessThanOrEqualTo(Duration.ofMillis(300));
    }
  }

  @Test
  void theLongestValidTimeoutIsAFarDeadlineNotAReset() throws Exception {
    try (NeverAnsweringBackend slow = NeverAnsweringBackend.start(); MeshFixture mesh = new MeshFixture();
        RawHttp2Client caller = new RawHttp2Client(mesh.serverSidecar(slow.port()).inboundPort())) {
      Http2StreamFrame answer = caller.send(new DefaultHttp2Headers()
          .method("POST").scheme("http").path("/proxytest.Missing/Method").authority(MeshFixture.SERVICE)
          .set("content-type", "application/grpc").set("te", "trailers")
          .set(GrpcTimeout.HEADER, "99999999H"), new byte[0]); // some 11,000 years: valid, at most 8 digits

      assertThat(answer).as("an answer, not a reset").isInstanceOf(Http2HeadersFrame.class);
      assertThat(((Http2HeadersFrame) answer).headers().get("grpc-status")).as("the app's answer").hasToString("12");
    }
  }
}
