package io.taskmesh.e2e.cluster.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kubelet's volume layout: names link through ..data, and an update swaps ..data in one rename. */
class AtomicWriterTest {

  @Test
  void anUpdateSwapsTheDataLinkAndDropsRemovedKeysAndTheOldGeneration(@TempDir Path volume) throws Exception {
    AtomicWriter writer = new AtomicWriter(volume);
    assertThat(writer.write(Map.of("a", bytes("1"), "b", bytes("2")), 0644)).isTrue();
    Path firstGeneration = volume.resolve(Files.readSymbolicLink(volume.resolve("..data")));
    assertThat(Files.readSymbolicLink(volume.resolve("a"))).isEqualTo(Path.of("..data", "a"));
    assertThat(Files.readString(volume.resolve("a"))).isEqualTo("1");

    assertThat(writer.write(Map.of("a", bytes("1"), "b", bytes("2")), 0644)).as("unchanged: no new generation").isFalse();
    assertThat(writer.write(Map.of("a", bytes("3")), 0644)).isTrue();

    assertThat(Files.readString(volume.resolve("a"))).isEqualTo("3");
    assertThat(Files.exists(volume.resolve("b"))).isFalse();
    assertThat(Files.exists(firstGeneration)).isFalse();
    try (Stream<Path> entries = Files.list(volume)) {
      assertThat(entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("..") && !n.equals("..data")))
          .hasSize(1);
    }
  }

  @Test
  void anItemPathLeavingTheVolumeIsRefused(@TempDir Path volume) {
    assertThatThrownBy(() -> new AtomicWriter(volume).write(Map.of("../escape", bytes("x")), 0644))
        .hasMessageContaining("../escape");
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
