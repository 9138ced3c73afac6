package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PathTemplateTest {

  @Test
  void literalSegmentsMatchExactly() {
    PathTemplate template = PathTemplate.parse("/api/tasks");
    assertThat(template.match("/api/tasks")).hasValue(Map.of());
    assertThat(template.match("/api/tasks/")).isEmpty();
    assertThat(template.match("/api/task")).isEmpty();
    assertThat(template.match("/api/tasks:watch")).isEmpty();
  }

  @Test
  void variablesBindOneDecodedSegment() {
    PathTemplate template = PathTemplate.parse("/api/tasks/{id}");
    assertThat(template.match("/api/tasks/abc%20def")).hasValue(Map.of("id", "abc def"));
    assertThat(template.match("/api/tasks/a+b")).hasValue(Map.of("id", "a+b"));
    assertThat(template.match("/api/tasks/bad%zz")).hasValue(Map.of("id", "bad%zz"));
    assertThat(template.match("/api/tasks/")).isEmpty();
    assertThat(template.match("/api/tasks/a/b")).isEmpty();
  }

  @Test
  void aCustomVerbIsMatchedAfterTheLastSegment() {
    PathTemplate template = PathTemplate.parse("/api/tasks:watch");
    assertThat(template.match("/api/tasks:watch")).hasValue(Map.of());
    assertThat(template.match("/api/tasks")).isEmpty();
    assertThat(PathTemplate.parse("/api/tasks/{id}").match("/api/tasks:watch")).isEmpty();
  }

  @Test
  void doubleWildcardVariablesTakeTheRest() {
    PathTemplate template = PathTemplate.parse("/files/{name=**}");
    assertThat(template.match("/files/a/b/c.txt")).hasValue(Map.of("name", "a/b/c.txt"));
    assertThat(PathTemplate.parse("/v1/{parent=*}/items").match("/v1/shelf1/items")).hasValue(Map.of("parent", "shelf1"));
  }
}
