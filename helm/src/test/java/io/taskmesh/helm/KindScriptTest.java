package io.taskmesh.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The kind end-to-end script cannot run here (no container engine); its syntax and its plan can. */
class KindScriptTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path SCRIPT = ROOT.resolve("e2e/kind/run.sh");

  @Test
  void theScriptIsValidBash() throws Exception {
    Result result = bash("-n", SCRIPT.toString());

    assertThat(result.exitCode()).as(result.output()).isZero();
  }

  @Test
  void aDryRunPrintsEveryStepOfTheRealRunAndRunsNothing() throws Exception {
    Result result = bash(SCRIPT.toString(), "--dry-run");

    assertThat(result.exitCode()).as(result.output()).isZero();
    assertThat(result.output())
        .contains("+ kind create cluster --name taskmesh-e2e")
        .contains("-Pimages -DskipTests package")
        .contains("+ docker build -f " + ROOT.resolve("sidecar/Dockerfile") + " -t taskmesh/taskmesh-proxy:0.1.0-SNAPSHOT " + ROOT)
        .contains("+ kind load docker-image --name taskmesh-e2e taskmesh/taskmesh-proxy:0.1.0-SNAPSHOT")
        .contains("+ helm install taskmesh")
        .contains("+ helm test taskmesh")
        .contains("examples/taskservice.yaml")
        .contains("--for=condition=Ready taskservice/task-service")
        .contains("/proxy/metrics")
        .contains("zipkin:9411/proxy/api/v2/traces")
        .contains("+ kind delete cluster --name taskmesh-e2e");
  }

  @Test
  void anUnknownArgumentIsRefusedByName() throws Exception {
    Result result = bash(SCRIPT.toString(), "--dryrun");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.output()).contains("unknown argument: --dryrun");
  }

  private record Result(int exitCode, String output) {}

  private static Result bash(String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of("bash"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("script finished").isTrue();
    return new Result(process.exitValue(), output);
  }
}
