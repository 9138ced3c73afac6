package io.taskmesh.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The capture script run for real, as the init container would: a "pod" network namespace joined by a veth
 * pair to a "peer" one (addresses in 10.251.0.0/24, nothing routed anywhere else), the script applied in the
 * pod with the very env and command {@link SidecarInjection#captureInit} puts in the init container, and a
 * listener on every port that says which listener took each connection. Needs root, ip and iptables.
 */
class CaptureRulesTest {
  static final String POD_IP = "10.251.0.2";
  static final String PEER_IP = "10.251.0.1";
  static final String POD = "tm-capture-pod-" + ProcessHandle.current().pid();
  static final String PEER = "tm-capture-peer-" + ProcessHandle.current().pid();
  static final int APP_PORT = 8080;
  static final int SECOND_APP_PORT = 8081;
  static final int SKIPPED_INBOUND = 9090;
  static final int SKIPPED_OUTBOUND = 5432;
  static final int PEER_PORT = 7000;

  static final List<Process> listeners = new ArrayList<>();
  static Container init;

  @BeforeAll
  static void podWithCapture() throws Exception {
    assumeTrue(isRoot(), "needs root: creates network namespaces and iptables rules (CI runs as root)");
    assumeTrue(onPath("ip") && onPath("iptables"), "needs ip and iptables (apt-get install -y iproute2 iptables)");
    sh("ip netns add " + POD);
    sh("ip netns add " + PEER);
    sh("ip link add tmc" + ProcessHandle.current().pid() % 100000 + " type veth peer name tmp"
        + ProcessHandle.current().pid() % 100000);
    String podEnd = "tmc" + ProcessHandle.current().pid() % 100000;
    String peerEnd = "tmp" + ProcessHandle.current().pid() % 100000;
    sh("ip link set " + podEnd + " netns " + POD);
    sh("ip link set " + peerEnd + " netns " + PEER);
    in(POD, "ip addr add " + POD_IP + "/24 dev " + podEnd + " && ip link set " + podEnd + " up && ip link set lo up"
        + " && ip route add default via " + PEER_IP);
    in(PEER, "ip addr add " + PEER_IP + "/24 dev " + peerEnd + " && ip link set " + peerEnd + " up && ip link set lo up");

    init = SidecarInjection.captureInit("taskmesh/proxy-init:test", new SidecarInjection.Capture(
        List.of(APP_PORT, SECOND_APP_PORT, SKIPPED_INBOUND), List.of(SKIPPED_INBOUND), List.of(SKIPPED_OUTBOUND)));
    runInitContainer();

    // the pod: the proxy's listeners (outbound on loopback only, as the sidecar binds it), the app's ports
    listen(POD, "pod", "0.0.0.0:15006", "127.0.0.1:15001", "0.0.0.0:15000", "0.0.0.0:" + APP_PORT,
        "0.0.0.0:" + SECOND_APP_PORT, "0.0.0.0:" + SKIPPED_INBOUND);
    listen(PEER, "peer", "0.0.0.0:" + PEER_PORT, "0.0.0.0:" + SKIPPED_OUTBOUND);
  }

  @AfterAll
  static void removeNamespaces() throws Exception {
    for (Process listener : listeners) {
      listener.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (isRoot()) {
      run(List.of("ip", "netns", "del", POD));
      run(List.of("ip", "netns", "del", PEER));
    }
  }

  @Test
  void theAppPortReachedFromAnotherPodLandsOnTheInboundListener() throws Exception {
    assertThat(connect(PEER, POD_IP, APP_PORT)).isEqualTo("pod:15006");
    assertThat(connect(PEER, POD_IP, SECOND_APP_PORT)).isEqualTo("pod:15006");
  }

  @Test
  void theAdminPortAndSkippedInboundPortsAreNotCaptured() throws Exception {
    assertThat(connect(PEER, POD_IP, 15000)).isEqualTo("pod:15000");
    assertThat(connect(PEER, POD_IP, SKIPPED_INBOUND)).isEqualTo("pod:" + SKIPPED_INBOUND);
  }

  @Test
  void whatTheAppOpensToAnyAddressLandsOnTheOutboundListener() throws Exception {
    assertThat(connect(POD, PEER_IP, PEER_PORT)).isEqualTo("pod:15001");
    assertThat(connect(POD, "10.251.0.77", 443)).as("an address with no host behind it").isEqualTo("pod:15001");
  }

  @Test
  void theProxysOwnConnectionsLeaveUntouchedSoNothingLoops() throws Exception {
    assertThat(connectAs(SidecarInjection.PROXY_UID, POD, PEER_IP, PEER_PORT)).isEqualTo("peer:" + PEER_PORT);
    assertThat(connectAs(SidecarInjection.PROXY_UID + 1, POD, PEER_IP, PEER_PORT)).as("any other UID is captured")
        .isEqualTo("pod:15001");
  }

  @Test
  void loopbackAndSkippedOutboundPortsAreNotCaptured() throws Exception {
    assertThat(connect(POD, "127.0.0.1", APP_PORT)).isEqualTo("pod:" + APP_PORT);
    assertThat(connect(POD, PEER_IP, SKIPPED_OUTBOUND)).isEqualTo("peer:" + SKIPPED_OUTBOUND);
  }

  @Test
  void runningTheScriptAgainReplacesItsRulesInsteadOfAddingMore() throws Exception {
    String before = in(POD, "iptables -t nat -S");

    runInitContainer();

    assertThat(in(POD, "iptables -t nat -S")).isEqualTo(before);
    assertThat(connect(PEER, POD_IP, APP_PORT)).isEqualTo("pod:15006");
  }

  @Test
  void aBadPortListIsRefusedNamingTheVariable() throws Exception {
    ProcessBuilder builder = new ProcessBuilder("ip", "netns", "exec", POD, "/bin/sh", "-c", SidecarInjection.CAPTURE_SCRIPT)
        .redirectErrorStream(true);
    initEnv(builder.environment());
    builder.environment().put("TASKMESH_SKIP_OUTBOUND_PORTS", "5432,http");
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).isEqualTo(2);
    assertThat(output).contains("TASKMESH_SKIP_OUTBOUND_PORTS: 'http' is not a port number");
  }

  /** The init container's command with its env, in the pod's namespace. */
  private static void runInitContainer() throws Exception {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", POD));
    command.addAll(init.getCommand());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    initEnv(builder.environment());
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(output).isZero();
  }

  private static void initEnv(Map<String, String> env) {
    for (EnvVar variable : init.getEnv()) {
      env.put(variable.getName(), variable.getValue());
    }
  }

  private static void listen(String namespace, String name, String... addresses) throws Exception {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
        PortEcho.class.getName(), name));
    command.addAll(List.of(addresses));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    listeners.add(process);
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    assertThat(line).as("listeners in " + namespace).isEqualTo("ready");
  }

  private static String connect(String namespace, String host, int port) throws Exception {
    return run(List.of("ip", "netns", "exec", namespace, "bash", "-c", probe(host, port)));
  }

  private static String connectAs(long uid, String namespace, String host, int port) throws Exception {
    return run(List.of("ip", "netns", "exec", namespace, "setpriv", "--reuid=" + uid, "--regid=" + uid,
        "--clear-groups", "bash", "-c", probe(host, port)));
  }

  /** Connects with bash's /dev/tcp and prints the line the listener answers. */
  private static String probe(String host, int port) {
    return "exec 3<>/dev/tcp/" + host + "/" + port + " && timeout 10 head -n 1 <&3";
  }

  private static String in(String namespace, String script) throws Exception {
    return sh("ip netns exec " + namespace + " sh -c '" + script + "'");
  }

  private static String sh(String script) throws Exception {
    return run(List.of("sh", "-c", script));
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
    return output;
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static boolean onPath(String tool) {
    return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool))
        || Files.isExecutable(Path.of("/usr/bin", tool));
  }
}
