package io.taskmesh.e2e.cluster.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code kubectl} (Debian's kubernetes-client) against the local API server, as a user runs it after
 * {@code ./taskmesh up}: {@code apply} with its default validation (it reads the OpenAPI v3 documents to learn
 * that the server validates fields, and sends {@code fieldValidation=Strict}), {@code get} with the CRD's printer
 * columns, {@code describe}, {@code patch}, {@code explain} from the CRD's schema, {@code delete}. Runs without
 * root: only the API server, over HTTPS on 127.0.0.1.
 */
class KubectlAgainstTheApiServerTest {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static ApiServer server;
  private static Path kubeconfig;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    assumeThat(java.util.stream.Stream.of(System.getenv("PATH").split(":"))
        .anyMatch(directory -> Files.isExecutable(Path.of(directory, "kubectl"))))
        .as("kubectl on PATH (Debian package kubernetes-client)").isTrue();
    server = ApiServer.start(List.of(InetAddress.getLoopbackAddress()), 0, "10.213.249.0/24");
    kubeconfig = server.writeKubeconfig(dir.resolve("kubeconfig"), "kubectltest");
    assertThat(ok("apply", "-f", "crds/taskservices.taskmesh.io-v1.yml"))
        .contains("customresourcedefinition.apiextensions.k8s.io/taskservices.taskmesh.io created");
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private record Result(int exit, String output) {}

  private static Result kubectl(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).directory(REPO.toFile()).redirectErrorStream(true).start();
    process.getOutputStream().close();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish within 60 s");
    }
    return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  private static String ok(String... args) throws IOException, InterruptedException {
    Result result = kubectl(args);
    assertThat(result.exit()).as("kubectl %s: %s", String.join(" ", args), result.output()).isZero();
    return result.output();
  }

  @Test
  void kubectlAppliesGetsDescribesPatchesAndDeletesATaskServiceWithValidationOn() throws Exception {
    assertThat(ok("apply", "-f", "examples/taskservice.yaml")).contains("taskservice.taskmesh.io/task-service created");
    // applied again unchanged, then changed: the client-side apply's patch path
    assertThat(ok("apply", "-f", "examples/taskservice.yaml")).contains("task-service unchanged");

    assertThat(ok("get", "ts")).contains("APPLIED", "CONFIG", "READY", "ADDRESS").contains("task-service");
    assertThat(ok("describe", "ts", "task-service")).contains("Name:", "task-service", "Kind:", "TaskService");
    assertThat(ok("explain", "ts.spec.replicas")).contains("replicas");

    assertThat(ok("patch", "ts", "task-service", "--type=merge", "-p", "{\"spec\":{\"mesh\":{\"timeout\":\"4s\"}}}"))
        .contains("patched");
    assertThat(ok("get", "ts", "task-service", "-o", "jsonpath={.spec.mesh.timeout}")).isEqualTo("4s");

    assertThat(ok("delete", "ts", "task-service")).contains("deleted");
    assertThat(kubectl("get", "ts", "task-service").output()).contains("NotFound");
  }

  @Test
  void kubectlApplyRefusesAnUnknownFieldByTheServersStrictValidation(@TempDir Path dir) throws Exception {
    Path typo = dir.resolve("typo.yaml");
    Files.writeString(typo, """
        apiVersion: taskmesh.io/v1alpha1
        kind: TaskService
        metadata: {name: typo}
        spec: {port: 50051, replicaz: 2}
        """);
    Result refused = kubectl("apply", "-f", typo.toString());
    assertThat(refused.exit()).as(refused.output()).isNotZero();
    assertThat(refused.output()).contains("replicaz");
  }

  @Test
  void kubectlAppliesAndReappliesCoreObjects(@TempDir Path dir) throws Exception {
    Path configMap = dir.resolve("cm.yaml");
    Files.writeString(configMap, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: \"1\"}\n");
    assertThat(ok("apply", "-f", configMap.toString())).contains("configmap/settings created");
    Files.writeString(configMap, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: \"2\", b: \"3\"}\n");
    assertThat(ok("apply", "-f", configMap.toString())).contains("configmap/settings configured");
    assertThat(ok("get", "configmap", "settings", "-o", "jsonpath={.data.a}{.data.b}")).isEqualTo("23");
    assertThat(ok("delete", "-f", configMap.toString())).contains("deleted");
  }
}
