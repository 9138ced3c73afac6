package io.taskmesh.e2e.capture;

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

/**
 * A "pod" network namespace joined by a veth pair to a "peer" one, addresses in one /24 of 10.251.0.0/16 that
 * nothing routes anywhere else, and the processes a test starts inside them; all removed by {@link #close}.
 * Needs root, ip and iptables (the caller skips otherwise, see {@link #assumeAvailable}).
 */
final class PodNetwork implements AutoCloseable {
  final String pod;
  final String peer;
  final String podIp;
  final String peerIp;
  private final List<Process> processes = new ArrayList<>();

  PodNetwork(String name, int subnet) throws Exception {
    long id = ProcessHandle.current().pid() % 100000;
    pod = "tm-" + name + "-pod-" + id;
    peer = "tm-" + name + "-peer-" + id;
    podIp = "10.251." + subnet + ".2";
    peerIp = "10.251." + subnet + ".1";
    String podEnd = "tm" + name.charAt(0) + "a" + id;
    String peerEnd = "tm" + name.charAt(0) + "b" + id;
    sh("ip netns add " + pod);
    sh("ip netns add " + peer);
    sh("ip link add " + podEnd + " type veth peer name " + peerEnd);
    sh("ip link set " + podEnd + " netns " + pod);
    sh("ip link set " + peerEnd + " netns " + peer);
    in(pod, "ip addr add " + podIp + "/24 dev " + podEnd + " && ip link set " + podEnd + " up && ip link set lo up"
        + " && ip route add default via " + peerIp);
    in(peer, "ip addr add " + peerIp + "/24 dev " + peerEnd + " && ip link set " + peerEnd + " up && ip link set lo up");
  }

  static void assumeAvailable() {
    assumeTrue("root".equals(System.getProperty("user.name")),
        "needs root: creates network namespaces and iptables rules (CI runs as root)");
    assumeTrue(onPath("ip") && onPath("iptables"), "needs ip and iptables (apt-get install -y iproute2 iptables)");
  }

  /** The capture init container's command with its env (and {@code overrides}), in the pod's namespace. */
  String runCapture(Container init, Map<String, String> overrides) throws Exception {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", pod));
    command.addAll(init.getCommand());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    for (EnvVar variable : init.getEnv()) {
      builder.environment().put(variable.getName(), variable.getValue());
    }
    builder.environment().putAll(overrides);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = process.waitFor();
    return exit + "\n" + output;
  }

  /** Listeners answering {@code name:port} (see {@link PortEcho}); returns once they are bound. */
  void echo(String namespace, String name, String... addresses) throws Exception {
    List<String> command = new ArrayList<>(List.of(PortEcho.class.getName(), name));
    command.addAll(List.of(addresses));
    Process process = java(namespace, command, ProcessBuilder.Redirect.PIPE);
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).as("listeners in " + namespace).isEqualTo("ready");
  }

  /**
   * A JVM with this test's classpath inside {@code namespace}, as root, its output to {@code output} (a pipe must
   * be read, or a chatty process blocks); stopped by {@link #close}.
   */
  Process java(String namespace, List<String> mainAndArgs, ProcessBuilder.Redirect output) throws IOException {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path")));
    command.addAll(mainAndArgs);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output).start();
    processes.add(process);
    return process;
  }

  /** Connects from {@code namespace} with bash's /dev/tcp, sends {@code send} (may be empty), prints the first line back. */
  String connect(String namespace, String host, int port, String send) throws Exception {
    return run(List.of("ip", "netns", "exec", namespace, "bash", "-c", probe(host, port, send)));
  }

  /** The same, as {@code uid}: the capture treats the proxy's UID and every other differently. */
  String connectAs(long uid, String namespace, String host, int port, String send) throws Exception {
    return run(List.of("ip", "netns", "exec", namespace, "setpriv", "--reuid=" + uid, "--regid=" + uid,
        "--clear-groups", "bash", "-c", probe(host, port, send)));
  }

  private static String probe(String host, int port, String send) {
    return "exec 3<>/dev/tcp/" + host + "/" + port + (send.isEmpty() ? "" : " && printf '" + send + "' >&3")
        + " && timeout 10 head -n 1 <&3";
  }

  String in(String namespace, String script) throws Exception {
    return run(List.of("ip", "netns", "exec", namespace, "bash", "-c", script));
  }

  private static String sh(String script) throws Exception {
    return run(List.of("sh", "-c", script));
  }

  static String run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
    return output;
  }

  private static boolean onPath(String tool) {
    return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool))
        || Files.isExecutable(Path.of("/usr/bin", tool));
  }

  @Override
  public void close() throws Exception {
    for (Process process : processes) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    run(List.of("ip", "netns", "del", pod));
    run(List.of("ip", "netns", "del", peer));
  }
}
