package io.taskmesh.e2e.cluster.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules kube-proxy writes: one DNAT per ready endpoint, equal odds, matched by port name. */
class KubeProxyRulesTest {

  @Test
  void readyEndpointsGetEqualOddsAndUnreadyOnesNone() {
    Service service = new ServiceBuilder().withNewMetadata().withName("tasks").withNamespace("demo").endMetadata()
        .withNewSpec().withClusterIP("10.213.1.20")
          .addNewPort().withName("grpc").withPort(50051).withTargetPort(new IntOrString("grpc")).endPort()
          .addNewPort().withName("admin").withPort(15000).endPort()
        .endSpec().build();
    EndpointSlice slice = new EndpointSliceBuilder()
        .withNewMetadata().withName("tasks-x").withNamespace("demo")
          .addToLabels(KubeProxy.SERVICE_NAME_LABEL, "tasks").endMetadata()
        .addNewPort().withName("grpc").withPort(15006).endPort()
        .addNewEndpoint().withAddresses("10.213.0.5").withNewConditions().withReady(true).endConditions().endEndpoint()
        .addNewEndpoint().withAddresses("10.213.0.6").endEndpoint()
        .addNewEndpoint().withAddresses("10.213.0.7").withNewConditions().withReady(true).endConditions().endEndpoint()
        .addNewEndpoint().withAddresses("10.213.0.8").withNewConditions().withReady(false).endConditions().endEndpoint()
        .build();
    EndpointSlice otherService = new EndpointSliceBuilder(slice).editMetadata()
        .addToLabels(KubeProxy.SERVICE_NAME_LABEL, "other").withName("other-x").endMetadata().build();

    String rules = KubeProxy.rules(List.of(service), List.of(slice, otherService));

    assertThat(rules.lines().filter(line -> line.startsWith("-A"))).containsExactly(
        "-A TMK-SERVICES -d 10.213.1.20/32 -p tcp -m tcp --dport 50051 -m comment --comment \"demo/tasks:50051\""
            + " -m statistic --mode random --probability 0.3333333333 -j DNAT --to-destination 10.213.0.5:15006",
        "-A TMK-SERVICES -d 10.213.1.20/32 -p tcp -m tcp --dport 50051 -m comment --comment \"demo/tasks:50051\""
            + " -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 10.213.0.6:15006",
        "-A TMK-SERVICES -d 10.213.1.20/32 -p tcp -m tcp --dport 50051 -m comment --comment \"demo/tasks:50051\""
            + " -j DNAT --to-destination 10.213.0.7:15006");
    assertThat(rules).startsWith("*nat\n:TMK-SERVICES - [0:0]\n").endsWith("COMMIT\n");
  }

  @Test
  void headlessServicesAndServicesWithoutEndpointsWriteNoRules() {
    Service headless = new ServiceBuilder().withNewMetadata().withName("db").withNamespace("demo").endMetadata()
        .withNewSpec().withClusterIP("None").addNewPort().withPort(5432).endPort().endSpec().build();
    Service empty = new ServiceBuilder().withNewMetadata().withName("idle").withNamespace("demo").endMetadata()
        .withNewSpec().withClusterIP("10.213.1.21").addNewPort().withPort(80).endPort().endSpec().build();

    assertThat(KubeProxy.rules(List.of(headless, empty), List.of())).doesNotContain("-A ");
  }
}
