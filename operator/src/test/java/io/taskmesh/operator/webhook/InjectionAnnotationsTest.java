package io.taskmesh.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What the injector reads from a pod: the pod itself is enough, annotations override, and a wrong one is named. */
class InjectionAnnotationsTest {

  @Test
  void aDeploymentsPodIsNamedAfterTheDeploymentAndMeshesItsContainerPorts() {
    Pod pod = new PodBuilder().withNewMetadata().withGenerateName("orders-5d8f7c-").addToLabels("pod-template-hash", "5d8f7c")
        .addNewOwnerReference().withKind("ReplicaSet").withName("orders-5d8f7c").withController(true).endOwnerReference()
        .endMetadata()
        .withNewSpec().addNewContainer().withName("app")
          .addNewPort().withName("metrics").withContainerPort(9100).endPort()
          .addNewPort().withName("grpc").withContainerPort(8443).endPort()
          .addNewPort().withName("dns").withContainerPort(53).withProtocol("UDP").endPort()
        .endContainer().endSpec().build();

    PodWorkload workload = PodWorkload.of(pod);

    assertThat(workload.service()).isEqualTo("orders");
    assertThat(workload.appPort()).as("the port named grpc").isEqualTo(OptionalInt.of(8443));
    assertThat(workload.inboundPorts()).containsExactly(8443, 9100);
  }

  @Test
  void aBarePodWithNoPortIsAClientNamedAfterItselfOrItsAppLabel() {
    Pod bare = new PodBuilder().withNewMetadata().withName("task-cli").endMetadata()
        .withNewSpec().addNewContainer().withName("task-cli").endContainer().endSpec().build();
    assertThat(PodWorkload.of(bare).service()).isEqualTo("task-cli");
    assertThat(PodWorkload.of(bare).appPort()).isEmpty();
    assertThat(PodWorkload.of(bare).inboundPorts()).isEmpty();

    Pod labelled = new PodBuilder(bare).editMetadata().addToLabels("app", "cli").endMetadata().build();
    assertThat(PodWorkload.of(labelled).service()).isEqualTo("cli");
  }

  @Test
  void annotationsOverrideWhatThePodSays() {
    Pod pod = new PodBuilder().withNewMetadata().withName("x").addToLabels("app", "web")
        .addToAnnotations(Map.of("taskmesh.io/service", "orders", "taskmesh.io/app-port", "8080",
            "taskmesh.io/skip-outbound-ports", "5432, 6379", "taskmesh.io/skip-inbound-ports", "9100"))
        .endMetadata()
        .withNewSpec().addNewContainer().withName("app").addNewPort().withContainerPort(9100).endPort().endContainer()
        .endSpec().build();

    PodWorkload workload = PodWorkload.of(pod);

    assertThat(workload.service()).isEqualTo("orders");
    assertThat(workload.appPort()).isEqualTo(OptionalInt.of(8080));
    assertThat(workload.inboundPorts()).containsExactly(8080, 9100);
    assertThat(workload.skipOutboundPorts()).containsExactly(5432, 6379);
    assertThat(workload.skipInboundPorts()).containsExactly(9100);
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "taskmesh.io/service            | Orders    | service name \"Orders\" (from annotation taskmesh.io/service) is not a DNS label",
      "taskmesh.io/service            | orders_v2 | service name \"orders_v2\" (from annotation taskmesh.io/service) is not a DNS label",
      "taskmesh.io/app-port           | http      | annotation taskmesh.io/app-port: \"http\" is not a port number (1-65535)",
      "taskmesh.io/app-port           | 70000     | annotation taskmesh.io/app-port: \"70000\" is not a port number (1-65535)",
      "taskmesh.io/app-port           | 15006     | annotation taskmesh.io/app-port: 15006 is taken by the sidecar",
      "taskmesh.io/skip-outbound-ports| 5432,pg   | annotation taskmesh.io/skip-outbound-ports: \"pg\" is not a port number",
      "taskmesh.io/skip-inbound-ports | 0         | annotation taskmesh.io/skip-inbound-ports: \"0\" is not a port number"})
  void aWrongAnnotationIsNamedWithItsValue(String annotation, String value, String problem) {
    Map<String, String> annotations = new HashMap<>();
    annotations.put(annotation.strip(), value.strip());
    Pod pod = new PodBuilder().withNewMetadata().withName("orders").withAnnotations(annotations).endMetadata()
        .withNewSpec().addNewContainer().withName("app").endContainer().endSpec().build();

    assertThatThrownBy(() -> PodWorkload.of(pod)).hasMessageStartingWith(problem.strip());
  }

  @Test
  void aContainerPortTheSidecarNeedsIsNamed() {
    Pod pod = new PodBuilder().withNewMetadata().withName("orders").endMetadata()
        .withNewSpec().addNewContainer().withName("app").addNewPort().withContainerPort(15001).endPort().endContainer()
        .endSpec().build();

    assertThatThrownBy(() -> PodWorkload.of(pod)).hasMessage(
        "container app port 15001 is taken by the sidecar (15000 admin, 15001 outbound, 15006 inbound)");
  }
}
