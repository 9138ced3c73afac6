package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.api.StreamTaskUpdatesRequest;
import io.taskmesh.taskservice.api.Task;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.api.TaskUpdateEvent.EventType;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every RPC and every error status over real loopback gRPC; run once per store by the subclasses.
 * Each test works with users of its own, so tests share one server without seeing each other's tasks.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TaskServiceContractTest {
  private static final String ISO_UTC_MILLIS = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z";

  private TaskServer server;
  private TaskClient client;
  private ManagedChannel channel;

  /** The JDBC URL of a fresh, empty store for this class. */
  abstract TaskServerOptions storeOptions();

  @BeforeAll
  void start() {
    server = TaskServer.start(storeOptions().withBindAddress("127.0.0.1").withPort(0));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    client = new TaskClient(channel, Duration.ofSeconds(10));
  }

  @AfterAll
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  @Test
  void aCreatedTaskCanBeReadBackWithItsDefaults() {
    String user = newUser();
    Task created = client.create("Write the proposal", "two pages", "", user);

    assertThat(created.getId()).isNotBlank();
    assertThat(created.getStatus()).isEqualTo("todo");
    assertThat(created.getPriority()).isEqualTo("medium");
    assertThat(created.getCreatedAt()).matches(ISO_UTC_MILLIS).isEqualTo(created.getUpdatedAt());
    assertThat(client.get(created.getId())).isEqualTo(created);
  }

  @Test
  void badInputIsInvalidArgumentNamingTheField() {
    String user = newUser();
    assertStatus(() -> client.create("", "", "", user), Status.Code.INVALID_ARGUMENT, "title: must not be empty");
    assertStatus(() -> client.create("x".repeat(201), "", "", user), Status.Code.INVALID_ARGUMENT,
        "title: must be at most 200 characters, got 201");
    assertStatus(() -> client.create("t", "d".repeat(2001), "", user), Status.Code.INVALID_ARGUMENT, "description");
    assertStatus(() -> client.create("t", "", "asap", user), Status.Code.INVALID_ARGUMENT,
        "priority: must be one of [low, medium, high, urgent], got 'asap'");
    assertStatus(() -> client.create("t", "", "", ""), Status.Code.INVALID_ARGUMENT, "user_id: must not be empty");
    assertStatus(() -> client.get(""), Status.Code.INVALID_ARGUMENT, "id: must not be empty");

    Task task = client.create("t", "", "low", user);
    assertStatus(() -> client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("finished").build()),
        Status.Code.INVALID_ARGUMENT, "status: must be one of [todo, in_progress, done], got 'finished'");
    assertStatus(() -> client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setTitle(" ").build()),
        Status.Code.INVALID_ARGUMENT, "title: must not be empty");
    assertThat(client.get(task.getId())).as("a refused update changes nothing").isEqualTo(task);
  }

  @Test
  void missingTasksAreNotFoundForEveryRpc() {
    String id = UUID.randomUUID().toString();
    assertStatus(() -> client.get(id), Status.Code.NOT_FOUND, "task " + id + " not found");
    assertStatus(() -> client.update(UpdateTaskRequest.newBuilder().setId(id).setTitle("x").build()),
        Status.Code.NOT_FOUND, id);
    assertStatus(() -> client.delete(id), Status.Code.NOT_FOUND, id);
  }

  @Test
  void anUpdateChangesOnlyTheFieldsItCarries() throws InterruptedException {
    Task task = client.create("Original title", "original description", "high", newUser());
    Thread.sleep(5);

    Task updated = client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("in_progress").build());

    assertThat(updated.getStatus()).isEqualTo("in_progress");
    assertThat(updated.getTitle()).isEqualTo("Original title");
    assertThat(updated.getDescription()).isEqualTo("original description");
    assertThat(updated.getPriority()).isEqualTo("high");
    assertThat(updated.getCreatedAt()).isEqualTo(task.getCreatedAt());
    assertThat(updated.getUpdatedAt()).matches(ISO_UTC_MILLIS).isGreaterThan(task.getUpdatedAt());

    Task cleared = client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setDescription("").build());
    assertThat(cleared.getDescription()).as("an explicit empty value is a change").isEmpty();
    assertThat(cleared.getStatus()).isEqualTo("in_progress");
  }

  @Test
  void deleteRemovesTheTaskOnce() {
    Task task = client.create("short-lived", "", "", newUser());

    assertThat(client.delete(task.getId()).getSuccess()).isTrue();

    assertStatus(() -> client.get(task.getId()), Status.Code.NOT_FOUND, task.getId());
    assertStatus(() -> client.delete(task.getId()), Status.Code.NOT_FOUND, task.getId());
  }

  @Test
  void listFiltersByUserAndStatusInCreationOrderAndPages() {
    String user = newUser();
    List<Task> created = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      created.add(client.create("task " + i, "", "", user));
    }
    client.create("someone else's", "", "", newUser());
    client.update(UpdateTaskRequest.newBuilder().setId(created.get(2).getId()).setStatus("done").build());

    List<Task> all = client.list(ListTasksRequest.newBuilder().setUserId(user).build());
    assertThat(all).extracting(Task::getId).containsExactlyElementsOf(created.stream().map(Task::getId).toList());

    List<Task> done = client.list(ListTasksRequest.newBuilder().setUserId(user).setStatus("done").build());
    assertThat(done).extracting(Task::getId).containsExactly(created.get(2).getId());

    List<Task> page = client.list(ListTasksRequest.newBuilder().setUserId(user).setLimit(3).setOffset(3).build());
    assertThat(page).extracting(Task::getTitle).containsExactly("task 3", "task 4", "task 5");
  }

  @Test
  void listRefusesLimitsAndFiltersOutsideTheRules() {
    assertStatus(() -> client.list(ListTasksRequest.newBuilder().setLimit(501).build()), Status.Code.INVALID_ARGUMENT,
        "limit: must be between 0 and 500");
    assertStatus(() -> client.list(ListTasksRequest.newBuilder().setOffset(-1).build()), Status.Code.INVALID_ARGUMENT,
        "offset: must not be negative");
    assertStatus(() -> client.list(ListTasksRequest.newBuilder().setStatus("blocked").build()),
        Status.Code.INVALID_ARGUMENT, "status");
  }

  @Test
  void listDeliversEveryTaskToAReaderThatAsksForOneAtATime() throws Exception {
    String user = newUser();
    for (int i = 0; i < 60; i++) {
      client.create("task " + i, "", "", user);
    }
    List<String> received = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    TaskServiceGrpc.newStub(channel).listTasks(ListTasksRequest.newBuilder().setUserId(user).setLimit(500).build(),
        new ClientResponseObserver<ListTasksRequest, TaskResponse>() {
          private ClientCallStreamObserver<ListTasksRequest> call;

          @Override
          public void beforeStart(ClientCallStreamObserver<ListTasksRequest> requestStream) {
            call = requestStream;
            call.disableAutoRequestWithInitial(1);
          }

          @Override
          public void onNext(TaskResponse value) {
            received.add(value.getTask().getTitle());
            call.request(1);
          }

          @Override
          public void onError(Throwable t) {
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });

    assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(received).hasSize(60).startsWith("task 0", "task 1").endsWith("task 59");
  }

  @Test
  void aSubscriberSeesItsUsersChangesInOrderAndNothingElse() {
    String user = newUser();
    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    TaskClient.Subscription subscription = client.subscribe(
        StreamTaskUpdatesRequest.newBuilder().setUserId(user).build(), events::add, status -> { });
    await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() >= 1);

    client.create("not mine", "", "", newUser());
    Task task = client.create("mine", "", "", user);
    client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("done").build());
    client.delete(task.getId());

    await().atMost(Duration.ofSeconds(30)).until(() -> events.size() >= 3);
    assertThat(events).extracting(TaskUpdateEvent::getEventType)
        .containsExactly(EventType.CREATED, EventType.UPDATED, EventType.DELETED);
    assertThat(events).allSatisfy(event -> {
      assertThat(event.getTask().getId()).isEqualTo(task.getId());
      assertThat(event.getTimestamp()).matches(ISO_UTC_MILLIS);
    });
    assertThat(events.get(1).getTask().getStatus()).isEqualTo("done");
    subscription.cancel();
  }

  @Test
  void aSubscriptionByTaskIdFollowsOnlyThatTaskAndCancelRemovesIt() {
    Task watched = client.create("watched", "", "", newUser());
    Task other = client.create("other", "", "", watched.getUserId());
    int before = server.subscriberCount();
    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    AtomicReference<Status> ended = new AtomicReference<>();
    TaskClient.Subscription subscription = client.subscribe(
        StreamTaskUpdatesRequest.newBuilder().addTaskIds(watched.getId()).build(), events::add, ended::set);
    await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() == before + 1);

    client.update(UpdateTaskRequest.newBuilder().setId(other.getId()).setTitle("other, renamed").build());
    client.update(UpdateTaskRequest.newBuilder().setId(watched.getId()).setTitle("watched, renamed").build());
    // on PostgreSQL the watched task's CREATED event may still be in flight when the subscription starts
    await().atMost(Duration.ofSeconds(30)).until(() -> events.stream().anyMatch(
        e -> e.getEventType() == EventType.UPDATED && e.getTask().getTitle().equals("watched, renamed")));
    assertThat(events).allSatisfy(e -> assertThat(e.getTask().getId()).isEqualTo(watched.getId()));

    subscription.cancel();

    await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() == before);
    await().atMost(Duration.ofSeconds(30)).until(() -> ended.get() != null);
    assertThat(ended.get().getCode()).isEqualTo(Status.Code.CANCELLED);
  }

  @Test
  void healthReportsServingAndReflectionListsTheService() throws Exception {
    assertThat(HealthGrpc.newBlockingStub(channel)
        .check(HealthCheckRequest.newBuilder().setService(TaskServiceGrpc.SERVICE_NAME).build()).getStatus())
        .isEqualTo(ServingStatus.SERVING);

    List<String> services = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
        .serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse response) {
            response.getListServicesResponse().getServiceList().forEach(s -> services.add(s.getName()));
          }

          @Override
          public void onError(Throwable t) {
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(services).contains("taskservice.TaskService", "grpc.health.v1.Health");
  }

  private static String newUser() {
    return "user-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static void assertStatus(Runnable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(code);
          assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
  }
}
