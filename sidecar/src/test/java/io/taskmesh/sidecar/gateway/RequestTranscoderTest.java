package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.DynamicMessage;
import io.taskmesh.taskservice.api.TaskProto;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The task.proto bindings as the gateway reads them, and requests built from paths, queries and bodies. */
class RequestTranscoderTest {
  private final TranscodingTable table = TranscodingTable.of(List.of(TaskProto.getDescriptor()));

  @Test
  void everyAnnotatedBindingIsFoundIncludingAdditionalOnes() {
    assertThat(table.bindings()).extracting(binding -> binding.httpMethod() + " " + binding.template())
        .containsExactlyInAnyOrder("POST /api/tasks", "GET /api/tasks/{id}", "PATCH /api/tasks/{id}",
            "PUT /api/tasks/{id}", "DELETE /api/tasks/{id}", "GET /api/tasks", "GET /api/tasks:watch");
  }

  @Test
  void thePathVariableWinsOverTheBodyAndOptionalFieldsKeepPresence() throws Exception {
    DynamicMessage request = build("PATCH", "/api/tasks/41", "{\"id\": 7, \"status\": \"done\"}", Map.of());
    UpdateTaskRequest update = UpdateTaskRequest.parseFrom(request.toByteString());
    assertThat(update.getId()).isEqualTo(41);
    assertThat(update.hasStatus()).isTrue();
    assertThat(update.hasTitle()).isFalse();
  }

  @Test
  void repeatedQueryParametersFillARepeatedField() throws Exception {
    DynamicMessage request = build("GET", "/api/tasks:watch", "",
        Map.of("task_ids", List.of("3", "5"), "userId", List.of("12")));
    TaskSubscriptionRequest watch = TaskSubscriptionRequest.parseFrom(request.toByteString());
    assertThat(watch.getTaskIdsList()).containsExactly(3, 5);
    assertThat(watch.getUserId()).isEqualTo(12);
  }

  @Test
  void wrongValuesNameTheirField() {
    assertThatThrownBy(() -> build("GET", "/api/tasks", "", Map.of("limit", List.of("1.5"))))
        .isInstanceOf(BadRequest.class).hasMessage("query parameter 'limit': '1.5' is not a valid int32");
    assertThatThrownBy(() -> build("GET", "/api/tasks/abc", "", Map.of()))
        .isInstanceOf(BadRequest.class).hasMessageContaining("'id'").hasMessageContaining("int32");
    assertThatThrownBy(() -> build("POST", "/api/tasks", "{\"title\": [\"a\", \"b\"]}", Map.of()))
        .isInstanceOf(BadRequest.class).hasMessageStartingWith("field 'title': ");
    assertThatThrownBy(() -> build("POST", "/api/tasks", "{\"title\": \"a\", \"title\": \"b\"}", Map.of()))
        .isInstanceOf(BadRequest.class).hasMessageContaining("malformed JSON").hasMessageContaining("title");
    assertThatThrownBy(() -> build("POST", "/api/tasks", "{\"title\": \"a\"} trailing", Map.of()))
        .isInstanceOf(BadRequest.class).hasMessageContaining("malformed JSON");
  }

  private DynamicMessage build(String method, String path, String body, Map<String, List<String>> query)
      throws BadRequest {
    return RequestTranscoder.build(table.find(method, path).orElseThrow(), body, query);
  }
}
