package io.taskmesh.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each wrong pair of injection annotations is refused with a message naming the annotation and the value. */
class InjectionAnnotationsTest {

  @ParameterizedTest(name = "service={0} app-port={1}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
      "-            | 8080   | annotation taskmesh.io/service is missing",
      "Orders       | 8080   | annotation taskmesh.io/service: \"Orders\" is not a DNS label",
      "orders_v2    | 8080   | annotation taskmesh.io/service: \"orders_v2\" is not a DNS label",
      "orders       | -      | annotation taskmesh.io/app-port is missing",
      "orders       | http   | annotation taskmesh.io/app-port: \"http\" is not a port number (1-65535)",
      "orders       | 0      | annotation taskmesh.io/app-port: \"0\" is not a port number (1-65535)",
      "orders       | 70000  | annotation taskmesh.io/app-port: \"70000\" is not a port number (1-65535)",
      "orders       | 15006  | annotation taskmesh.io/app-port: 15006 is taken by the sidecar",
      "orders       | 15001  | annotation taskmesh.io/app-port: 15001 is taken by the sidecar"})
  void aWrongAnnotationIsNamedWithItsValue(String service, String appPort, String problem) {
    Map<String, String> annotations = new HashMap<>();
    if (service != null) {
      annotations.put(SidecarInjector.SERVICE_ANNOTATION, service);
    }
    if (appPort != null) {
      annotations.put(SidecarInjector.APP_PORT_ANNOTATION, appPort);
    }

    assertThat(SidecarInjector.annotationProblem(annotations)).hasValueSatisfying(
        message -> assertThat(message).startsWith(problem.strip()));
  }

  @ParameterizedTest(name = "service={0} app-port={1}")
  @CsvSource({"orders, 50051", "a, 1", "billing-v2, ' 8080 '"})
  void goodAnnotationsPass(String service, String appPort) {
    assertThat(SidecarInjector.annotationProblem(Map.of(SidecarInjector.SERVICE_ANNOTATION, service,
        SidecarInjector.APP_PORT_ANNOTATION, appPort))).isEmpty();
  }
}
