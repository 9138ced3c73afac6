package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.taskmesh.sidecar.filter.MetricsFilter;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.BogusCalls;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.RawBytesMarshaller;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Made-up method paths cannot grow the sidecar's metrics without bound. */
class MetricCardinalityTest {
  private static final Pattern METHOD_LABEL = Pattern.compile("method=\"([^\"]*)\"");
  private static final int BOGUS_CALLS = 100;

  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void methodsTheServiceDoesNotHaveAreCountedAsUnknownOnceItsMethodsAreLearnt() {
    TaskServer backend = mesh.backend();
    Sidecar caller = mesh.clientSidecar("ROUND_ROBIN", backend.port());
    TaskClient client = mesh.clientThrough(caller);
    TaskResponse task = client.create("known", "", "", 11);
    AdminClient admin = new AdminClient(caller.adminPort());
    await().atMost(Duration.ofSeconds(30)).until(() ->
        admin.get("/methods").body().contains("/taskservice.TaskService/GetTask"));

    callBogusMethods(caller.outboundPort());
    client.get(task.getId());

    assertThat(methodLabels(admin, "taskmesh_requests_total", "outbound"))
        .containsExactlyInAnyOrder("/taskservice.TaskService/CreateTask", "/taskservice.TaskService/GetTask", "unknown");
    assertThat(admin.metricSum("taskmesh_requests_total", "method=\"unknown\"", "code=\"UNIMPLEMENTED\""))
        .isEqualTo(BOGUS_CALLS);
    assertThat(methodLabels(admin, "taskmesh_request_duration_seconds_count", "outbound")).hasSize(3);
  }

  @Test
  void onTheInboundSideMethodsTheAppDoesNotHaveAreCountedAsUnknownOnceItsMethodsAreLearnt() {
    TaskServer backend = mesh.backend();
    Sidecar server = mesh.serverSidecar(backend);
    AdminClient admin = new AdminClient(server.adminPort());
    // the server sidecar asks its app's methods by reflection when it starts; until the answer one path is counted
    BogusCalls.awaitAppMethodsLearnt(server.inboundPort(), admin);

    callBogusMethods(server.inboundPort());

    assertThat(methodLabels(admin, "taskmesh_requests_total", "inbound"))
        .isSubsetOf("/taskservice.TaskService/Primer", "unknown").contains("unknown");
    assertThat(admin.metricSum("taskmesh_requests_total", "direction=\"inbound\"", "method=\"unknown\"",
        "code=\"UNIMPLEMENTED\"")).isGreaterThanOrEqualTo(BOGUS_CALLS);
  }

  @Test
  void withoutAMethodCatalogAtMost64MethodLabelsAreKeptAndTheRestAreOther() {
    Sidecar caller = mesh.clientSidecar("ROUND_ROBIN", 1); // an upstream that never answers reflection

    callBogusMethods(caller.outboundPort(), Status.Code.UNAVAILABLE);

    AdminClient admin = new AdminClient(caller.adminPort());
    Set<String> labels = methodLabels(admin, "taskmesh_requests_total", "outbound");
    assertThat(labels).hasSize(MetricsFilter.MAX_METHOD_LABELS + 1).contains("other");
    assertThat(admin.metricSum("taskmesh_requests_total", "direction=\"outbound\"")).isEqualTo(BOGUS_CALLS);
    assertThat(admin.metricSum("taskmesh_requests_total", "method=\"other\""))
        .isEqualTo(BOGUS_CALLS - MetricsFilter.MAX_METHOD_LABELS);
  }

  /** 100 calls, each to a different method path the app does not have: UNIMPLEMENTED from the app. */
  private void callBogusMethods(int port) {
    callBogusMethods(port, Status.Code.UNIMPLEMENTED);
  }

  private void callBogusMethods(int port, Status.Code expected) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).overrideAuthority(MeshFixture.SERVICE)
        .usePlaintext().build();
    try {
      for (int i = 0; i < BOGUS_CALLS; i++) {
        MethodDescriptor<byte[], byte[]> bogus = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("taskservice.TaskService/Made" + i)
            .setRequestMarshaller(RawBytesMarshaller.INSTANCE).setResponseMarshaller(RawBytesMarshaller.INSTANCE).build();
        StatusRuntimeException refused = catchThrowableOfType(() -> ClientCalls.blockingUnaryCall(channel, bogus,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]), StatusRuntimeException.class);
        assertThat(refused.getStatus().getCode()).isEqualTo(expected);
      }
    } finally {
      channel.shutdownNow();
    }
  }

  private static Set<String> methodLabels(AdminClient admin, String metric, String direction) {
    Set<String> labels = new TreeSet<>();
    admin.get("/metrics").body().lines()
        .filter(line -> line.startsWith(metric + "{") && line.contains("direction=\"" + direction + "\""))
        .forEach(line -> {
          Matcher method = METHOD_LABEL.matcher(line);
          if (method.find()) {
            labels.add(method.group(1));
          }
        });
    return labels;
  }
}
