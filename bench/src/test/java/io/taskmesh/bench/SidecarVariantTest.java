package io.taskmesh.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SidecarVariantTest {

  @Test
  void wordsNameTheJarTheJavaHomeTheEnvironmentAndTheFlags() {
    SidecarVariant variant = SidecarVariant.of(
        " java:/usr/lib/jvm/temurin-25  MALLOC_ARENA_MAX=2 -XX:TieredStopAtLevel=4 jar:/tmp/old.jar -Dx=Y=z ");

    assertThat(variant).isEqualTo(new SidecarVariant("/tmp/old.jar", "/usr/lib/jvm/temurin-25",
        List.of("-XX:TieredStopAtLevel=4", "-Dx=Y=z"), Map.of("MALLOC_ARENA_MAX", "2")));
    assertThat(variant.describe())
        .isEqualTo("jar:/tmp/old.jar java:/usr/lib/jvm/temurin-25 MALLOC_ARENA_MAX=2 -XX:TieredStopAtLevel=4 -Dx=Y=z");
    assertThat(SidecarVariant.of("")).isEqualTo(SidecarVariant.DEPLOYED);
    assertThat(SidecarVariant.DEPLOYED.describe()).isEqualTo("(as deployed)");
  }

  @Test
  void aSpecIsLabelledVariantsInOrderAndAWrongOneIsNamed() {
    assertThat(SidecarVariant.parse("p", "c2=-XX:TieredStopAtLevel=4; ;deployed=;cds=-XX:SharedArchiveFile=/tmp/{name}.jsa"))
        .containsExactly(entry("c2", new SidecarVariant("", "", List.of("-XX:TieredStopAtLevel=4"), Map.of())),
            entry("deployed", SidecarVariant.DEPLOYED),
            entry("cds", new SidecarVariant("", "", List.of("-XX:SharedArchiveFile=/tmp/{name}.jsa"), Map.of())));
    assertThatThrownBy(() -> SidecarVariant.parse("bench.variants", "just-flags"))
        .hasMessage("bench.variants entry 'just-flags' is not label=flags");
    assertThatThrownBy(() -> SidecarVariant.parse("bench.variants", "C2 x=-Xint"))
        .hasMessageContaining("label 'C2 x' must be lower-case letters, digits and dashes");
    assertThatThrownBy(() -> SidecarVariant.parse("bench.variants", "c2=;c2=-Xint"))
        .hasMessage("bench.variants names variant 'c2' twice");
  }

  @Test
  void eachVariantAddsItsPathsBesideTheDeployedOnesAskedFor() {
    assertThat(BenchMain.withVariants(List.of("direct", "taskmesh", "taskmesh-mtls", "haproxy"), List.of("c2", "t25")))
        .containsExactly("direct", "taskmesh", "taskmesh-mtls", "haproxy", "taskmesh-c2", "taskmesh-mtls-c2",
            "taskmesh-t25", "taskmesh-mtls-t25");
    assertThat(BenchMain.withVariants(List.of("taskmesh-mtls"), List.of("baseline")))
        .containsExactly("taskmesh-mtls", "taskmesh-mtls-baseline");
  }
}
