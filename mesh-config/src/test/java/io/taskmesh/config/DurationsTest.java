package io.taskmesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void readsTheUnitsPeopleWrite() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.parse(" 1h ")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
  }

  @Test
  void rejectsWhatIsNotADuration() {
    for (String bad : List.of("5", "5 s", "1.5s", "-1s", "5sec", "")) {
      assertThatThrownBy(() -> Durations.parse(bad)).hasMessageContaining("500ms, 5s, 2m");
    }
  }

  @Test
  void writesTheShortestExactForm() {
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(Durations.format(Duration.ofSeconds(120))).isEqualTo("2m");
    assertThat(Durations.format(Duration.ofMinutes(60))).isEqualTo("1h");
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0");
  }

  @Test
  void theJacksonModuleReadsAndWritesRecordsWithDurations() throws Exception {
    ObjectMapper mapper = new ObjectMapper().registerModule(MeshConfigJackson.module());
    RetryPolicy policy = new RetryPolicy(3, Duration.ofMillis(250), List.of("UNAVAILABLE"), 10);

    String json = mapper.writeValueAsString(policy);

    assertThat(json).contains("\"perTryTimeout\":\"250ms\"");
    assertThat(mapper.readValue(json, RetryPolicy.class)).isEqualTo(policy);
    assertThatThrownBy(() -> mapper.readValue(json.replace("250ms", "soon"), RetryPolicy.class))
        .hasMessageContaining("soon");
  }
}
