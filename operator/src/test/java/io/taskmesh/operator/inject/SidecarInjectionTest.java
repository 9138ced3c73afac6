package io.taskmesh.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SidecarInjectionTest {
  /** What Kubernetes rewrites in a container's command before the shell sees it: $$ and $(VAR_NAME). */
  private static final Pattern KUBERNETES_EXPANDS = Pattern.compile("\\$\\$|\\$\\([A-Za-z_][A-Za-z0-9_]*\\)");

  @Test
  void theCaptureScriptReachesTheShellAsWrittenThroughKubernetesCommandExpansion() {
    assertThat(KUBERNETES_EXPANDS.matcher("eval \"list=\\$$name\"").find()).as("the pattern sees what broke it").isTrue();
    assertThat(KUBERNETES_EXPANDS.matcher(SidecarInjection.CAPTURE_SCRIPT).results().map(match -> match.group()))
        .as("sequences the kubelet would rewrite in the init container's command").isEmpty();
  }

  @Test
  void theSidecarMapsTheImagesClassDataArchiveAndTrainingRunsWithEveryOtherFlag() {
    assertThat(SidecarInjection.JAVA_OPTIONS).endsWith(" -XX:SharedArchiveFile=/app/taskmesh-proxy.jsa"
        + " -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0");
    String training = SidecarInjection.ClassDataArchive.trainingOptions(SidecarInjection.JAVA_OPTIONS);
    assertThat(training).doesNotContain("SharedArchiveFile").doesNotContain("ArchiveRelocationMode")
        .doesNotStartWith(" ").doesNotEndWith(" ")
        .doesNotContain("  ");
    assertThat(training + " " + SidecarInjection.ClassDataArchive.OPTIONS).isEqualTo(SidecarInjection.JAVA_OPTIONS);
  }
}
