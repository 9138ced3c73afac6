package io.taskmesh.sidecar;

import static io.taskmesh.sidecar.support.SeedTaskWire.decode;
import static io.taskmesh.sidecar.support.SeedTaskWire.encode;
import static io.taskmesh.sidecar.support.SeedTaskWire.method;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client of the original design's task.proto, as its grpc-js client would call (only non-empty fields on
 * the wire), against the task service directly and through a client sidecar and a server sidecar: every
 * request built and every response decoded by the seed's field numbers and types ({@link SeedTaskWire}),
 * with no field the seed does not know, or knows with another wire type, in any answer.
 */
class SeedWireContractTest {
  private static final String ISO_UTC_MILLIS = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z";
  private static final int USER = 42;

  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void allSixRpcsSpeakTheSeedsWireDirectly() {
    TaskServer backend = mesh.backend();
    converse(channel(backend.port(), null), backend);
  }

  @Test
  void allSixRpcsSpeakTheSeedsWireThroughASidecarPair() {
    TaskServer backend = mesh.backend();
    Sidecar serverSide = mesh.serverSidecar(backend);
    Sidecar clientSide = mesh.clientSidecar("P2C_EWMA", serverSide.inboundPort());
    converse(channel(clientSide.outboundPort(), MeshFixture.SERVICE), backend);
  }

  private void converse(Channel channel, TaskServer backend) {
    List<DynamicMessage> events = new CopyOnWriteArrayList<>();
    AtomicReference<Status> watchEnd = new AtomicReference<>();
    ClientCall<byte[], byte[]> watch = channel.newCall(method("StreamTaskUpdates", true), CallOptions.DEFAULT);
    ClientCalls.asyncServerStreamingCall(watch, encode("TaskSubscriptionRequest", Map.of("user_id", USER)),
        collect("TaskUpdateEvent", events, watchEnd));
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 1);

    DynamicMessage created = unary(channel, "CreateTask", encode("CreateTaskRequest", Map.of(
        "title", "Implement feature", "description", "Add new functionality", "priority", "high", "status", "todo",
        "user_id", USER, "project_id", 5)), "TaskResponse");
    int id = (int) field(created, "id");
    assertThat(id).isPositive();
    assertThat(field(created, "title")).isEqualTo("Implement feature");
    assertThat(field(created, "description")).isEqualTo("Add new functionality");
    assertThat(field(created, "priority")).isEqualTo("high");
    assertThat(field(created, "status")).isEqualTo("todo");
    assertThat(field(created, "user_id")).isEqualTo(USER);
    assertThat(field(created, "project_id")).isEqualTo(5);
    assertThat((String) field(created, "created_at")).matches(ISO_UTC_MILLIS);
    assertThat(field(created, "updated_at")).isEqualTo(field(created, "created_at"));

    assertThat(unary(channel, "GetTask", encode("GetTaskRequest", Map.of("id", id)), "TaskResponse"))
        .isEqualTo(created);

    // the seed's client leaves empty fields off the wire: only the status changes
    DynamicMessage updated = unary(channel, "UpdateTask",
        encode("UpdateTaskRequest", Map.of("id", id, "status", "in_progress")), "TaskResponse");
    assertThat(field(updated, "status")).isEqualTo("in_progress");
    assertThat(field(updated, "title")).isEqualTo("Implement feature");
    assertThat(field(updated, "description")).isEqualTo("Add new functionality");
    assertThat(field(updated, "priority")).isEqualTo("high");
    assertThat(field(updated, "project_id")).isEqualTo(5);
    assertThat(field(updated, "created_at")).isEqualTo(field(created, "created_at"));

    unary(channel, "CreateTask", encode("CreateTaskRequest", Map.of("title", "second", "user_id", USER)),
        "TaskResponse");
    List<DynamicMessage> listed = new ArrayList<>();
    ClientCalls.blockingServerStreamingCall(channel, method("ListTasks", true), deadline(),
        encode("ListTasksRequest", Map.of("user_id", USER))).forEachRemaining(bytes -> listed.add(
            seedOnly(decode("TaskResponse", bytes))));
    assertThat(listed).extracting(task -> field(task, "title")).containsExactly("Implement feature", "second");
    assertThat(listed.get(0)).isEqualTo(updated);
    List<DynamicMessage> inProgress = new ArrayList<>();
    ClientCalls.blockingServerStreamingCall(channel, method("ListTasks", true), deadline(),
        encode("ListTasksRequest", Map.of("user_id", USER, "status", "in_progress", "limit", 5, "offset", 0)))
        .forEachRemaining(bytes -> inProgress.add(decode("TaskResponse", bytes)));
    assertThat(inProgress).extracting(task -> field(task, "id")).containsExactly(id);

    DynamicMessage deleted = unary(channel, "DeleteTask", encode("DeleteTaskRequest", Map.of("id", id)),
        "DeleteResponse");
    assertThat(field(deleted, "success")).isEqualTo(true);
    assertThat((String) field(deleted, "message")).isNotEmpty();
    assertThatThrownBy(() -> unary(channel, "GetTask", encode("GetTaskRequest", Map.of("id", id)), "TaskResponse"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).isEqualTo("task " + id + " not found");
        });

    await().atMost(Duration.ofSeconds(30)).until(() -> events.size() >= 4);
    assertThat(events).extracting(event -> field(event, "event_type"))
        .containsExactly("created", "updated", "created", "deleted");
    DynamicMessage updateEvent = events.get(1);
    assertThat(updateEvent.getField(updateEvent.getDescriptorForType().findFieldByName("task"))).isEqualTo(updated);
    assertThat(events).allSatisfy(event -> assertThat((String) field(event, "timestamp")).matches(ISO_UTC_MILLIS));
    watch.cancel("done", null);
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 0);
    assertThat(watchEnd.get()).as("the watch ended only when cancelled").isNull();
  }

  private static DynamicMessage unary(Channel channel, String rpc, byte[] request, String responseType) {
    return seedOnly(decode(responseType,
        ClientCalls.blockingUnaryCall(channel, method(rpc, false), deadline(), request)));
  }

  /** Every field of the answer is one the seed's proto declares, with the wire type it declares. */
  private static DynamicMessage seedOnly(DynamicMessage message) {
    assertThat(message.getUnknownFields().asMap()).as("fields of %s the seed does not know",
        message.getDescriptorForType().getName()).isEmpty();
    message.getAllFields().forEach((field, value) -> {
      if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        seedOnly((DynamicMessage) value);
      }
    });
    return message;
  }

  private static Object field(DynamicMessage message, String name) {
    return message.getField(message.getDescriptorForType().findFieldByName(name));
  }

  private static StreamObserver<byte[]> collect(String type, List<DynamicMessage> into, AtomicReference<Status> end) {
    return new StreamObserver<>() {
      @Override
      public void onNext(byte[] value) {
        into.add(seedOnly(decode(type, value)));
      }

      @Override
      public void onError(Throwable error) {
        Status status = Status.fromThrowable(error);
        if (status.getCode() != Status.Code.CANCELLED) {
          end.set(status);
        }
      }

      @Override
      public void onCompleted() {
        end.set(Status.OK);
      }
    };
  }

  private static CallOptions deadline() {
    return CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private ManagedChannel channel(int port, String authority) {
    NettyChannelBuilder builder = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext();
    if (authority != null) {
      builder.overrideAuthority(authority);
    }
    ManagedChannel channel = builder.build();
    mesh.closeLater(() -> channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
    return channel;
  }
}
