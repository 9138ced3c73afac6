package io.taskmesh.e2e.cluster.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Closing the kubelet and the network leaves nothing behind: no process, namespace, veth, route or rule. */
class KubeletCleanupTest {

  @Test
  void closingRemovesEverything(@TempDir Path workDir) throws Exception {
    Assumptions.assumeTrue(PodNetwork.unavailableReason().isEmpty(),
        () -> "skipped: " + PodNetwork.unavailableReason().orElseThrow());
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    try (KubernetesClient api = server.createClient()) {
      PodNetwork network = PodNetwork.create("kubeletgone");
      Kubelet kubelet = new Kubelet(api, network, KubeletTest.testImages(),
          KubeletTest.testAccess(network, server.getPort()), workDir);
      kubelet.start();
      api.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("gone").endMetadata().build()).create();
      api.pods().inNamespace("gone").resource(KubeletTest.echoPod("gone", "doomed").build()).create();
      await().atMost(Duration.ofSeconds(120)).until(() -> kubelet.pid("gone", "doomed", "app").isPresent());
      long pid = kubelet.pid("gone", "doomed", "app").orElseThrow();
      String podNetns = kubelet.networkNamespace("gone", "doomed").orElseThrow();
      assertThat(HostCommand.run(List.of("ip", "netns", "exec", network.nodeNamespace(), "iptables", "-t", "nat", "-S")))
          .contains(KubeProxy.CHAIN);

      kubelet.close();

      assertThat(Files.exists(Path.of("/proc/" + pid))).isFalse();
      assertThat(PodNetwork.namespaces()).doesNotContain(podNetns);
      assertThat(Files.exists(Path.of("/etc/netns", podNetns))).isFalse();
      assertThat(HostCommand.run(List.of("ip", "netns", "exec", network.nodeNamespace(), "iptables", "-t", "nat", "-S")))
          .doesNotContain(KubeProxy.CHAIN).doesNotContain("MASQUERADE");
      assertThat(HostCommand.run(List.of("ip", "-n", network.nodeNamespace(), "link", "show", "type", "veth")))
          .doesNotContain("vp");

      network.close();

      assertThat(PodNetwork.namespaces()).noneMatch(ns -> ns.startsWith("tmk-kubeletgone-"));
      assertThat(HostCommand.attempt(List.of("ip", "link", "show", "tmk-kubeletgone"), null).exitCode()).isNotZero();
      assertThat(HostCommand.run(List.of("ip", "route", "show", network.podCidr()))).isBlank();
    } finally {
      server.destroy();
    }
  }
}
