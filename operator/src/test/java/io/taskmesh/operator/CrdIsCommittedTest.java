package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The committed CRDs (crds/ and the Helm chart's copy) are exactly what the Java types generate. */
class CrdIsCommittedTest {
  private static final String FILE = "taskservices.taskmesh.io-v1.yml";
  private static final Path GENERATED = Path.of("target", "classes", "META-INF", "fabric8", FILE);

  @Test
  void crdsFolderMatchesTheGeneratedCrd() throws IOException {
    assertSame(Path.of("..", "crds", FILE));
  }

  @Test
  void theHelmChartShipsTheSameCrd() throws IOException {
    assertSame(Path.of("..", "helm", "taskmesh", "crds", FILE));
  }

  private static void assertSame(Path committed) throws IOException {
    assertThat(Files.readString(committed))
        .as("%s is stale: copy %s over it (the build generates it from the Java types)", committed.normalize(),
            GENERATED)
        .isEqualTo(Files.readString(GENERATED));
  }
}
