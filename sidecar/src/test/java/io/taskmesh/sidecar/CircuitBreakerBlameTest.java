package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.proxytest.PatienceGrpc;
import io.taskmesh.sidecar.proxytest.WaitRequest;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.FakeControlPlane;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.PatienceBackend;
import io.taskmesh.sidecar.support.RawHttp2Client;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client sidecar's circuit opens only on failures the upstream caused: no caller can open it for
 * everyone with deadlines it chose too short or bodies that are not protobuf; the proxy's own route
 * timeout does count against the upstream, and the proxy's own "no endpoints" (nothing was sent) does not.
 */
class CircuitBreakerBlameTest {
  /** Opens on half of the last four calls. */
  private static final String BREAKER =
      "{failureRateThreshold: 50, minimumCalls: 4, slidingWindow: 4, waitInOpen: 30s, permittedInHalfOpen: 2}";
  private static final String GET_TASK = "/taskservice.TaskService/GetTask";

  private final MeshFixture mesh = new MeshFixture();
  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void callersOwnShortDeadlinesLeaveTheCircuitClosed() throws Exception {
    Sidecar caller = callerOf(mesh.serverSidecar(mesh.backend()).inboundPort(), MeshFixture.SERVICE, "5s");

    try (RawHttp2Client raw = new RawHttp2Client(caller.outboundPort())) {
      for (int i = 0; i < 30; i++) {
        Http2StreamFrame answer = raw.send(request(GET_TASK).set("grpc-timeout", "1n"), new byte[0]);
        assertThat(grpcStatus(answer)).isEqualTo("4"); // DEADLINE_EXCEEDED
      }
      assertThat(breakerState(caller, MeshFixture.SERVICE)).as("circuit state (0 closed)").isZero();
      assertThat(grpcStatus(raw.send(request(GET_TASK), new byte[0])))
          .as("a well-behaved call still reaches the service").isEqualTo("3"); // INVALID_ARGUMENT: the id is empty
    }
  }

  @Test
  void malformedBodiesLeaveTheCircuitClosed() throws Exception {
    Sidecar caller = callerOf(mesh.serverSidecar(mesh.backend()).inboundPort(), MeshFixture.SERVICE, "5s");
    byte[] notProtobuf = {(byte) 0xff, (byte) 0xff, 0x01};

    try (RawHttp2Client raw = new RawHttp2Client(caller.outboundPort())) {
      for (int i = 0; i < 30; i++) {
        assertThat(grpcStatus(raw.send(request(GET_TASK), notProtobuf))).as("the app's answer").isEqualTo("2"); // UNKNOWN
      }
      assertThat(breakerState(caller, MeshFixture.SERVICE)).as("circuit state (0 closed)").isZero();
      assertThat(grpcStatus(raw.send(request(GET_TASK), new byte[0]))).isEqualTo("3");
    }
  }

  @Test
  void theProxysOwnRouteTimeoutCountsAgainstTheUpstreamAndOpensTheCircuit() {
    PatienceBackend never = mesh.closeLater(new PatienceBackend("never", -1));
    Sidecar server = mesh.sidecar(MeshConfigParser.parse("""
        service: patience
        inbound: {port: 0, appPort: %d}
        outbound: {port: 0}
        admin: {port: 0}
        """.formatted(never.port())));
    Sidecar caller = callerOf(server.inboundPort(), "patience", "300ms");
    ManagedChannel channel = mesh.channelThrough(caller, "patience");
    PatienceGrpc.PatienceBlockingStub patience = PatienceGrpc.newBlockingStub(channel);
    AdminClient admin = new AdminClient(caller.adminPort());
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
      try { // the sidecar learns the methods (the route timeout is for unary calls); short deadlines of our own
        patience.withDeadlineAfter(100, TimeUnit.MILLISECONDS).look(WaitRequest.getDefaultInstance());
      } catch (StatusRuntimeException expected) {
        // DEADLINE_EXCEEDED, ours: not counted
      }
      return admin.get("/methods").body().contains("Patience/Wait");
    });
    assertThat(breakerState(caller, "patience")).as("after our own short deadlines").isZero();

    for (int i = 0; i < 4; i++) {
      try {
        patience.wait(WaitRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isIn(Status.Code.DEADLINE_EXCEEDED, Status.Code.UNAVAILABLE);
      }
    }

    assertThat(breakerState(caller, "patience")).as("circuit state (1 open)").isEqualTo(1.0);
  }
  @Test
  void callsWhileAServiceHasNoEndpointsLeaveTheCircuitClosedSoItsFirstEndpointIsCalledAtOnce() throws Exception {
    FakeControlPlane controlPlane = mesh.closeLater(new FakeControlPlane(0));
    Sidecar caller = mesh.sidecar(MeshConfigParser.parse(MeshFixture.discoveringCallerYaml(controlPlane.port(),
        "defaults: {circuitBreaker: " + BREAKER + "}", "upstreams: {" + MeshFixture.SERVICE + ": {loadBalancer: ROUND_ROBIN}}")));
    await().atMost(Duration.ofSeconds(30)).until(() -> controlPlane.subscriberCount() == 1);
    controlPlane.announce(MeshFixture.SERVICE, 1); // known, but no pod is ready yet
    await().atMost(Duration.ofSeconds(30)).until(() -> caller.outboundClusters().cluster(MeshFixture.SERVICE).isPresent());
    TaskClient client = mesh.clientThrough(caller);
    for (int i = 0; i < 10; i++) {
      StatusRuntimeException noEndpoints = catchThrowableOfType(StatusRuntimeException.class, () -> client.get(1));
      assertThat(noEndpoints.getStatus().getDescription()).contains("no endpoints");
    }

    controlPlane.announce(MeshFixture.SERVICE, 2, mesh.serverSidecar(mesh.backend()).inboundPort());
    await().atMost(Duration.ofSeconds(30)).until(() -> caller.outboundClusters().cluster(MeshFixture.SERVICE)
        .orElseThrow().anyHealthy().isPresent());

    assertThat(client.create("first call to the first pod", "", "low", 4).getTitle())
        .as("the circuit did not open on the proxy's own 'no endpoints'").isEqualTo("first call to the first pod");
    assertThat(breakerState(caller, MeshFixture.SERVICE)).isZero();
  }

  private Sidecar callerOf(int upstreamPort, String service, String routeTimeout) {
    return mesh.sidecar(MeshConfigParser.parse("""
        service: caller
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {static: {%s: ["127.0.0.1:%d"]}}
          defaults:
            timeout: %s
            retries: {attempts: 2, perTryTimeout: 10s, retryOn: [UNAVAILABLE], budgetPercent: 20}
            circuitBreaker: %s
        admin: {port: 0}
        """.formatted(service, upstreamPort, routeTimeout, BREAKER)));
  }

  private static Http2Headers request(String path) {
    return new DefaultHttp2Headers().method("POST").scheme("http").path(path).authority(MeshFixture.SERVICE)
        .set("content-type", "application/grpc").set("te", "trailers");
  }

  private static String grpcStatus(Http2StreamFrame answer) {
    assertThat(answer).isInstanceOf(Http2HeadersFrame.class);
    CharSequence status = ((Http2HeadersFrame) answer).headers().get("grpc-status");
    return String.valueOf(status);
  }

  private static double breakerState(Sidecar caller, String service) {
    return new AdminClient(caller.adminPort()).metricSum("taskmesh_circuit_breaker_state", "service=\"" + service + "\"");
  }
}
