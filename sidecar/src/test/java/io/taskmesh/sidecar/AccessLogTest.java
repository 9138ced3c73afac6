package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.filter.AccessLogFilter;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The access log: off by default; enabled, one key=value line per request on {@code taskmesh.access}. */
class AccessLogTest {
  private final MeshFixture mesh = new MeshFixture();
  private final Logger accessLogger = (Logger) LoggerFactory.getLogger(AccessLogFilter.LOGGER);
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

  @BeforeEach
  void captureTheAccessLog() {
    lines.start();
    accessLogger.addAppender(lines);
  }

  @AfterEach
  void stop() throws Exception {
    accessLogger.detachAppender(lines);
    mesh.close();
  }

  @Test
  void offByDefaultNothingIsLogged() {
    TaskServer app = mesh.backend();
    Sidecar server = mesh.serverSidecar(app);
    Sidecar caller = mesh.clientSidecar("ROUND_ROBIN", server.inboundPort());
    TaskClient client = mesh.clientThrough(caller);

    TaskResponse task = client.create("quiet", "", "", 7);
    assertThat(client.get(task.getId())).isEqualTo(task);

    assertThat(lines.list).isEmpty();
  }

  @Test
  void enabledEachRequestGetsOneLineWithItsFieldsAndTraceId() {
    TaskServer app = mesh.backend();
    Sidecar server = mesh.sidecar(MeshConfigParser.parse("""
        service: %s
        inbound: {port: 0, appPort: %d, rateLimit: {requestsPerSecond: 0.001, burst: 2}}
        outbound: {port: 0}
        admin: {port: 0}
        tracing: {exporter: zipkin, endpoint: "http://127.0.0.1:1", samplingRatio: 1.0}
        accessLog: {enabled: true}
        """.formatted(MeshFixture.SERVICE, app.port())));
    TaskClient client = mesh.closeLater(TaskClient.connect("127.0.0.1:" + server.inboundPort()));

    TaskResponse task = client.create("logged", "", "", 7);
    assertThat(client.get(task.getId())).isEqualTo(task);
    StatusRuntimeException limited = catchThrowableOfType(() -> client.get(task.getId()), StatusRuntimeException.class);
    assertThat(limited.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

    await().atMost(Duration.ofSeconds(30)).until(() -> messages().size() == 3);
    List<String> messages = messages();
    assertThat(messages.get(0)).startsWith("direction=inbound service=task-service "
        + "method=/taskservice.TaskService/CreateTask code=OK duration_ms=")
        .contains(" endpoint=127.0.0.1:" + app.port() + " proxy_generated=false peer=- trace_id=")
        .matches(".* trace_id=[0-9a-f]{32}$");
    assertThat(messages.get(1)).contains("method=/taskservice.TaskService/GetTask code=OK ");
    assertThat(messages.get(2)).contains("method=/taskservice.TaskService/GetTask code=RESOURCE_EXHAUSTED ")
        .contains(" endpoint=- proxy_generated=true ");
    assertThat(lines.list).allSatisfy(event -> assertThat(event.getLoggerName()).isEqualTo("taskmesh.access"));
  }

  private List<String> messages() {
    synchronized (lines) {
      return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }
}
