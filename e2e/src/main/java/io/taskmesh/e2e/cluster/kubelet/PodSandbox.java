package io.taskmesh.e2e.cluster.kubelet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A pod's network: its own namespace with one address on the node's bridge, and the {@code /etc/hosts}
 * that {@code ip netns exec} bind-mounts into every process started in it.
 */
final class PodSandbox implements AutoCloseable {
  private final PodNetwork network;
  private final String netns;
  private final InetAddress ip;
  private final int hostIndex;

  PodSandbox(PodNetwork network, String netns, InetAddress ip, int hostIndex) {
    this.network = network;
    this.netns = netns;
    this.ip = ip;
    this.hostIndex = hostIndex;
  }

  String netns() {
    return netns;
  }

  InetAddress ip() {
    return ip;
  }

  /**
   * Rewrites the pod's hosts file in place (same inode): processes already running see it through the
   * bind mount, which a rename would break.
   */
  void writeHosts(String content) {
    Path hosts = Path.of("/etc/netns", netns, "hosts");
    try {
      Files.createDirectories(hosts.getParent());
      Files.writeString(hosts, content, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + hosts, e);
    }
  }

  @Override
  public void close() {
    PodNetwork.deleteNamespace(netns);
    network.release(hostIndex);
  }
}
