package io.taskmesh.e2e.cluster.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The node network, checked with the kernel's own view (ip, /run/netns). Root only, except the name check. */
class PodNetworkTest {

  @Test
  void aClusterNameThatCannotNameInterfacesIsRefused() {
    assertThatThrownBy(() -> PodNetwork.create("Has-Dashes"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[a-z0-9]{1,11}");
    assertThatThrownBy(() -> PodNetwork.create("waytoolongname"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("15 characters");
  }

  @Test
  void withoutRootTheReasonNamesWhatIsNeeded() {
    Assumptions.assumeTrue(PodNetwork.unavailableReason().isPresent(), "runs as root here: the reason is empty");
    assertThat(PodNetwork.unavailableReason().orElseThrow()).contains("root").contains("iproute2");
  }

  private static void requireRoot() {
    Assumptions.assumeTrue(PodNetwork.unavailableReason().isEmpty(),
        () -> "skipped: " + PodNetwork.unavailableReason().orElseThrow());
  }

  @Test
  void aPodReachesTheHostAddressAndServicesAreRoutedThroughTheNode() throws Exception {
    requireRoot();
    try (PodNetwork network = PodNetwork.create("nettest");
        PodSandbox sandbox = network.createSandbox();
        ServerSocket host = new ServerSocket(18098, 4, network.hostAddress())) {
      CompletableFuture<String> peer = CompletableFuture.supplyAsync(() -> {
        try (Socket accepted = host.accept()) {
          return accepted.getInetAddress().getHostAddress();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      HostCommand.run(List.of("ip", "netns", "exec", sandbox.netns(), "bash", "-c",
          "exec 3<>/dev/tcp/" + network.hostAddress().getHostAddress() + "/18098"));
      assertThat(peer.get(10, TimeUnit.SECONDS)).isEqualTo(sandbox.ip().getHostAddress());

      String serviceIp = network.serviceCidr().replace("0/24", "7");
      assertThat(HostCommand.run(List.of("ip", "-n", sandbox.netns(), "route", "get", serviceIp)))
          .contains("via " + network.gateway().getHostAddress());
      assertThat(HostCommand.run(List.of("ip", "-n", network.nodeNamespace(), "route", "show", "default"))).isBlank();
    }
  }

  @Test
  void twoClustersGetSeparateRangesAndCloseRemovesEverything() {
    requireRoot();
    PodNetwork first = PodNetwork.create("nettesta");
    PodNetwork second = PodNetwork.create("nettestb");
    PodSandbox sandbox = second.createSandbox();
    assertThat(first.podCidr()).isNotEqualTo(second.podCidr());
    assertThat(first.serviceCidr()).isNotEqualTo(second.serviceCidr());
    assertThat(PodNetwork.namespaces()).contains(sandbox.netns(), second.nodeNamespace());

    first.close();
    second.close();

    for (PodNetwork network : List.of(first, second)) {
      assertThat(PodNetwork.namespaces()).noneMatch(ns -> ns.startsWith("tmk-" + network.clusterName() + "-"));
      assertThat(HostCommand.attempt(List.of("ip", "link", "show", PodNetwork.hostLinkName(network.clusterName())), null)
          .exitCode()).isNotZero();
      assertThat(HostCommand.run(List.of("ip", "route", "show", network.podCidr()))).isBlank();
      assertThat(HostCommand.run(List.of("ip", "route", "show", network.serviceCidr()))).isBlank();
    }
    assertThat(Files.exists(Path.of("/etc/netns", sandbox.netns()))).isFalse();
  }

  @Test
  void aNameInUseByARunningClusterIsRefusedAndItsNetworkLeftAlone() {
    requireRoot();
    try (PodNetwork running = PodNetwork.create("nettestd")) {
      assertThatThrownBy(() -> PodNetwork.create("nettestd")).hasMessageContaining("in use");
      assertThat(PodNetwork.namespaces()).contains(running.nodeNamespace());
    }
    PodNetwork.create("nettestd").close();
  }

  @Test
  void aCrashedRunsLeftoversAreRemovedOnCreate() {
    requireRoot();
    HostCommand.run(List.of("ip", "netns", "add", "tmk-nettestc-p41"));
    HostCommand.run(List.of("ip", "link", "add", "tmk-nettestc", "type", "veth", "peer", "name", "eth0", "netns",
        "tmk-nettestc-p41"));
    try (PodNetwork network = PodNetwork.create("nettestc")) {
      assertThat(PodNetwork.namespaces()).doesNotContain("tmk-nettestc-p41").contains(network.nodeNamespace());
      assertThat(HostCommand.run(List.of("ip", "-d", "link", "show", "tmk-nettestc"))).contains("veth");
    }
  }
}
