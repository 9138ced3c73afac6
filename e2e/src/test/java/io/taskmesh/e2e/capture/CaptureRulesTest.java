package io.taskmesh.e2e.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.taskmesh.operator.inject.SidecarInjection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The capture script run for real, as the init container would: in a pod network namespace, with the very
 * command and env {@link SidecarInjection#captureInit} gives the init container, and a listener on every port
 * that says which listener took each connection. Needs root, ip and iptables.
 */
class CaptureRulesTest {
  static final int APP_PORT = 8080;
  static final int SECOND_APP_PORT = 8081;
  static final int SKIPPED_INBOUND = 9090;
  static final int SKIPPED_OUTBOUND = 5432;
  static final int PEER_PORT = 7000;

  static PodNetwork net;
  static Container init;

  @BeforeAll
  static void podWithCapture() throws Exception {
    PodNetwork.assumeAvailable();
    net = new PodNetwork("rules", 0);
    init = SidecarInjection.captureInit("taskmesh/proxy-init:test", new SidecarInjection.Capture(
        List.of(APP_PORT, SECOND_APP_PORT, SKIPPED_INBOUND), List.of(SKIPPED_INBOUND), List.of(SKIPPED_OUTBOUND)));
    assertThat(net.runCapture(init, Map.of())).startsWith("0\n");

    // the pod: the proxy's listeners (outbound on loopback only, as the sidecar binds it), the app's ports
    net.echo(net.pod, "pod", "0.0.0.0:15006", "127.0.0.1:15001", "0.0.0.0:15000", "0.0.0.0:" + APP_PORT,
        "0.0.0.0:" + SECOND_APP_PORT, "0.0.0.0:" + SKIPPED_INBOUND);
    net.echo(net.peer, "peer", "0.0.0.0:" + PEER_PORT, "0.0.0.0:" + SKIPPED_OUTBOUND);
  }

  @AfterAll
  static void removeNamespaces() throws Exception {
    if (net != null) {
      net.close();
    }
  }

  @Test
  void theAppPortReachedFromAnotherPodLandsOnTheInboundListener() throws Exception {
    assertThat(net.connect(net.peer, net.podIp, APP_PORT, "")).isEqualTo("pod:15006");
    assertThat(net.connect(net.peer, net.podIp, SECOND_APP_PORT, "")).isEqualTo("pod:15006");
  }

  @Test
  void theAdminPortAndSkippedInboundPortsAreNotCaptured() throws Exception {
    assertThat(net.connect(net.peer, net.podIp, 15000, "")).isEqualTo("pod:15000");
    assertThat(net.connect(net.peer, net.podIp, SKIPPED_INBOUND, "")).isEqualTo("pod:" + SKIPPED_INBOUND);
  }

  @Test
  void whatTheAppOpensToAnyAddressLandsOnTheOutboundListener() throws Exception {
    assertThat(net.connect(net.pod, net.peerIp, PEER_PORT, "")).isEqualTo("pod:15001");
    assertThat(net.connect(net.pod, "10.251.0.77", 443, "")).as("an address with no host behind it")
        .isEqualTo("pod:15001");
  }

  @Test
  void theProxysOwnConnectionsLeaveUntouchedSoNothingLoops() throws Exception {
    assertThat(net.connectAs(SidecarInjection.PROXY_UID, net.pod, net.peerIp, PEER_PORT, ""))
        .isEqualTo("peer:" + PEER_PORT);
    assertThat(net.connectAs(SidecarInjection.PROXY_UID + 1, net.pod, net.peerIp, PEER_PORT, ""))
        .as("any other UID is captured").isEqualTo("pod:15001");
  }

  @Test
  void loopbackAndSkippedOutboundPortsAreNotCaptured() throws Exception {
    assertThat(net.connect(net.pod, "127.0.0.1", APP_PORT, "")).isEqualTo("pod:" + APP_PORT);
    assertThat(net.connect(net.pod, net.peerIp, SKIPPED_OUTBOUND, "")).isEqualTo("peer:" + SKIPPED_OUTBOUND);
  }

  @Test
  void runningTheScriptAgainReplacesItsRulesInsteadOfAddingMore() throws Exception {
    String before = net.in(net.pod, "iptables -t nat -S");

    assertThat(net.runCapture(init, Map.of())).startsWith("0\n");

    assertThat(net.in(net.pod, "iptables -t nat -S")).isEqualTo(before);
    assertThat(net.connect(net.peer, net.podIp, APP_PORT, "")).isEqualTo("pod:15006");
  }

  @Test
  void aBadPortListIsRefusedNamingTheVariable() throws Exception {
    assertThat(net.runCapture(init, Map.of("TASKMESH_SKIP_OUTBOUND_PORTS", "5432,http")))
        .startsWith("2\n").contains("TASKMESH_SKIP_OUTBOUND_PORTS: 'http' is not a port number");
  }
}
