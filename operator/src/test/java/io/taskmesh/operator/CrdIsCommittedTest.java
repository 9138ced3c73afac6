package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The committed CRDs (crds/ and the Helm chart's copy) are exactly what the Java types generate. */
class CrdIsCommittedTest {
  @ParameterizedTest
  @ValueSource(strings = {"taskservices.taskmesh.io-v1.yml", "authorizationpolicies.taskmesh.io-v1.yml"})
  void crdsFolderMatchesTheGeneratedCrd(String file) throws IOException {
    assertSame(file, Path.of("..", "crds", file));
  }

  @ParameterizedTest
  @ValueSource(strings = {"taskservices.taskmesh.io-v1.yml", "authorizationpolicies.taskmesh.io-v1.yml"})
  void theHelmChartShipsTheSameCrd(String file) throws IOException {
    assertSame(file, Path.of("..", "helm", "taskmesh", "crds", file));
  }

  private static void assertSame(String file, Path committed) throws IOException {
    Path generated = Path.of("target", "classes", "META-INF", "fabric8", file);
    assertThat(Files.readString(committed))
        .as("%s is stale: copy %s over it (the build generates it from the Java types)", committed.normalize(),
            generated)
        .isEqualTo(Files.readString(generated));
  }
}
