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
import io.taskmesh.taskservice.api.CreateTaskRequest;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
  private final AtomicInteger lastUser = new AtomicInteger(1000);

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
    int user = newUser();
    TaskResponse created = client.create("Write the proposal", "two pages", "", user);

    assertThat(created.getId()).isPositive();
    assertThat(created.getUserId()).isEqualTo(user);
    assertThat(created.getStatus()).isEqualTo("todo");
    assertThat(created.getPriority()).isEqualTo("medium");
    assertThat(created.getProjectId()).as("no project").isZero();
    assertThat(created.getCreatedAt()).matches(ISO_UTC_MILLIS).isEqualTo(created.getUpdatedAt());
    assertThat(client.get(created.getId())).isEqualTo(created);
  }

  @Test
  void statusAndProjectGivenOnCreateAreKeptAndReturned() {
    TaskResponse created = client.create(CreateTaskRequest.newBuilder().setTitle("already going").setStatus("in_progress")
        .setPriority("urgent").setUserId(newUser()).setProjectId(77).build());

    assertThat(created.getStatus()).isEqualTo("in_progress");
    assertThat(created.getProjectId()).isEqualTo(77);
    assertThat(client.get(created.getId())).isEqualTo(created);
  }

  @Test
  void idsAreIssuedByTheStoreIncreasingAndNeverReused() {
    int user = newUser();
    TaskResponse first = client.create("first", "", "", user);
    TaskResponse second = client.create("second", "", "", user);
    client.delete(second.getId());

    TaskResponse third = client.create("third", "", "", user);

    assertThat(second.getId()).isGreaterThan(first.getId());
    assertThat(third.getId()).as("the deleted task's id is not issued again").isGreaterThan(second.getId());
  }

  @Test
  void badInputIsInvalidArgumentNamingTheField() {
    int user = newUser();
    assertStatus(() -> client.create("", "", "", user), Status.Code.INVALID_ARGUMENT, "title: must not be empty");
    assertStatus(() -> client.create("x".repeat(201), "", "", user), Status.Code.INVALID_ARGUMENT,
        "title: must be at most 200 characters, got 201");
    assertStatus(() -> client.create("t", "d".repeat(2001), "", user), Status.Code.INVALID_ARGUMENT, "description");
    assertStatus(() -> client.create("t", "", "asap", user), Status.Code.INVALID_ARGUMENT,
        "priority: must be one of [low, medium, high, urgent], got 'asap'");
    assertStatus(() -> client.create("t", "", "", 0), Status.Code.INVALID_ARGUMENT, "user_id: is required");
    assertStatus(() -> client.create("t", "", "", -3), Status.Code.INVALID_ARGUMENT,
        "user_id: must be a positive integer, got -3");
    assertStatus(() -> client.create(CreateTaskRequest.newBuilder().setTitle("t").setUserId(user).setStatus("later").build()),
        Status.Code.INVALID_ARGUMENT, "status: must be one of [todo, in_progress, done], got 'later'");
    assertStatus(() -> client.create(CreateTaskRequest.newBuilder().setTitle("t").setUserId(user).setProjectId(-1).build()),
        Status.Code.INVALID_ARGUMENT, "project_id");
    assertStatus(() -> client.get(0), Status.Code.INVALID_ARGUMENT, "id: is required");
    assertStatus(() -> client.delete(-5), Status.Code.INVALID_ARGUMENT, "id: must be a positive integer, got -5");

    TaskResponse task = client.create("t", "", "low", user);
    assertStatus(() -> client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("finished").build()),
        Status.Code.INVALID_ARGUMENT, "status: must be one of [todo, in_progress, done], got 'finished'");
    assertStatus(() -> client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setTitle(" ").build()),
        Status.Code.INVALID_ARGUMENT, "title: must not be empty");
    assertThat(client.get(task.getId())).as("a refused update changes nothing").isEqualTo(task);
  }

  @Test
  void missingTasksAreNotFoundForEveryRpc() {
    int id = Integer.MAX_VALUE;
    assertStatus(() -> client.get(id), Status.Code.NOT_FOUND, "task " + id + " not found");
    assertStatus(() -> client.update(UpdateTaskRequest.newBuilder().setId(id).setTitle("x").build()),
        Status.Code.NOT_FOUND, "task " + id + " not found");
    assertStatus(() -> client.delete(id), Status.Code.NOT_FOUND, "task " + id + " not found");
  }

  @Test
  void anUpdateChangesOnlyTheFieldsItCarries() throws InterruptedException {
    TaskResponse task = client.create("Original title", "original description", "high", newUser());
    Thread.sleep(5);

    TaskResponse updated = client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("in_progress").build());

    assertThat(updated.getStatus()).isEqualTo("in_progress");
    assertThat(updated.getTitle()).isEqualTo("Original title");
    assertThat(updated.getDescription()).isEqualTo("original description");
    assertThat(updated.getPriority()).isEqualTo("high");
    assertThat(updated.getCreatedAt()).isEqualTo(task.getCreatedAt());
    assertThat(updated.getUpdatedAt()).matches(ISO_UTC_MILLIS).isGreaterThan(task.getUpdatedAt());

    TaskResponse cleared = client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setDescription("").build());
    assertThat(cleared.getDescription()).as("an explicit empty value is a change").isEmpty();
    assertThat(cleared.getStatus()).isEqualTo("in_progress");
  }

  @Test
  void deleteRemovesTheTaskOnce() {
    TaskResponse task = client.create("short-lived", "", "", newUser());

    assertThat(client.delete(task.getId()).getSuccess()).isTrue();

    assertStatus(() -> client.get(task.getId()), Status.Code.NOT_FOUND, "task " + task.getId() + " not found");
    assertStatus(() -> client.delete(task.getId()), Status.Code.NOT_FOUND, "task " + task.getId() + " not found");
  }

  @Test
  void listFiltersByUserAndStatusInCreationOrderAndPages() {
    int user = newUser();
    List<TaskResponse> created = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      created.add(client.create("task " + i, "", "", user));
    }
    client.create("someone else's", "", "", newUser());
    client.update(UpdateTaskRequest.newBuilder().setId(created.get(2).getId()).setStatus("done").build());

    List<TaskResponse> all = client.list(ListTasksRequest.newBuilder().setUserId(user).setLimit(500).build());
    assertThat(all).extracting(TaskResponse::getId)
        .containsExactlyElementsOf(created.stream().map(TaskResponse::getId).toList());

    List<TaskResponse> byDefault = client.list(ListTasksRequest.newBuilder().setUserId(user).build());
    assertThat(byDefault).as("limit 0 means 10").extracting(TaskResponse::getId)
        .containsExactlyElementsOf(created.subList(0, 10).stream().map(TaskResponse::getId).toList());

    List<TaskResponse> done = client.list(ListTasksRequest.newBuilder().setUserId(user).setStatus("done").build());
    assertThat(done).extracting(TaskResponse::getId).containsExactly(created.get(2).getId());

    List<TaskResponse> page = client.list(ListTasksRequest.newBuilder().setUserId(user).setLimit(3).setOffset(3).build());
    assertThat(page).extracting(TaskResponse::getTitle).containsExactly("task 3", "task 4", "task 5");
  }

  @Test
  void listRefusesLimitsAndFiltersOutsideTheRules() {
    int user = newUser();
    assertStatus(() -> client.list(ListTasksRequest.newBuilder().setUserId(user).setLimit(501).build()),
        Status.Code.INVALID_ARGUMENT, "limit: must be between 0 and 500");
    assertStatus(() -> client.list(ListTasksRequest.newBuilder().setUserId(user).setOffset(-1).build()),
        Status.Code.INVALID_ARGUMENT, "offset: must not be negative");
    assertStatus(() -> client.list(ListTasksRequest.newBuilder().setUserId(user).setStatus("blocked").build()),
        Status.Code.INVALID_ARGUMENT, "status");
  }

  @Test
  void unscopedListsAndWatchesAreRefusedNamingTheField() {
    client.create("anyone's", "", "", newUser());

    assertStatus(() -> client.list(ListTasksRequest.getDefaultInstance()), Status.Code.INVALID_ARGUMENT,
        "user_id: is required");
    AtomicReference<Status> ended = new AtomicReference<>();
    client.subscribe(TaskSubscriptionRequest.getDefaultInstance(), event -> { }, ended::set);
    await().atMost(Duration.ofSeconds(30)).until(() -> ended.get() != null);
    assertThat(ended.get().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(ended.get().getDescription()).contains("user_id").contains("task_ids");
  }

  @Test
  void aDescriptionAtItsLimitOfCharactersThatJsonEscapesReachesSubscribers() {
    int user = newUser();
    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    int before = server.subscriberCount();
    TaskClient.Subscription subscription = client.subscribe(
        TaskSubscriptionRequest.newBuilder().setUserId(user).build(), events::add, status -> { });
    await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() == before + 1);
    String markup = "<".repeat(TaskRules.MAX_DESCRIPTION);

    TaskResponse created = client.create("markup", markup, "", user);

    assertThat(client.get(created.getId()).getDescription()).isEqualTo(markup);
    await().atMost(Duration.ofSeconds(30)).until(() -> !events.isEmpty());
    assertThat(events.get(0).getTask()).isEqualTo(created);
    subscription.cancel();
  }

  @Test
  void listDeliversEveryTaskToAReaderThatAsksForOneAtATime() throws Exception {
    int user = newUser();
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
            received.add(value.getTitle());
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
    int user = newUser();
    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    TaskClient.Subscription subscription = client.subscribe(
        TaskSubscriptionRequest.newBuilder().setUserId(user).build(), events::add, status -> { });
    await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() >= 1);

    client.create("not mine", "", "", newUser());
    TaskResponse task = client.create("mine", "", "", user);
    client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("done").build());
    client.delete(task.getId());

    await().atMost(Duration.ofSeconds(30)).until(() -> events.size() >= 3);
    assertThat(events).extracting(TaskUpdateEvent::getEventType)
        .containsExactly("created", "updated", "deleted");
    assertThat(events).allSatisfy(event -> {
      assertThat(event.getTask().getId()).isEqualTo(task.getId());
      assertThat(event.getTimestamp()).matches(ISO_UTC_MILLIS);
    });
    assertThat(events.get(1).getTask().getStatus()).isEqualTo("done");
    subscription.cancel();
  }

  @Test
  void aSubscriptionByTaskIdFollowsOnlyThatTaskAndCancelRemovesIt() {
    TaskResponse watched = client.create("watched", "", "", newUser());
    TaskResponse other = client.create("other", "", "", watched.getUserId());
    int before = server.subscriberCount();
    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    AtomicReference<Status> ended = new AtomicReference<>();
    TaskClient.Subscription subscription = client.subscribe(
        TaskSubscriptionRequest.newBuilder().addTaskIds(watched.getId()).build(), events::add, ended::set);
    await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() == before + 1);

    client.update(UpdateTaskRequest.newBuilder().setId(other.getId()).setTitle("other, renamed").build());
    client.update(UpdateTaskRequest.newBuilder().setId(watched.getId()).setTitle("watched, renamed").build());
    // on PostgreSQL the watched task's CREATED event may still be in flight when the subscription starts
    await().atMost(Duration.ofSeconds(30)).until(() -> events.stream().anyMatch(
        e -> e.getEventType().equals("updated") && e.getTask().getTitle().equals("watched, renamed")));
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

  private int newUser() {
    return lastUser.incrementAndGet();
  }

  static void assertStatus(Runnable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(code);
          assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
  }
}
