package io.taskmesh.e2e.cluster.kubelet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A pod's network: its own namespace with one address on the node's bridge, and the {@code /etc/hosts}
 * and {@code /etc/resolv.conf} that {@code ip netns exec} bind-mounts into every process started in it.
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
   * The pod's resolver: names come from its hosts file only. A name it does not hold fails at once on the
   * pod's own loopback, instead of a query that waits for an answer that cannot come (nothing routes out).
   */
  void writeResolver() {
    write("resolv.conf", "# taskmesh local kubelet: Service names are in /etc/hosts\n"
        + "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
  }

  /**
   * Rewrites the pod's hosts file in place (same inode): processes already running see it through the
   * bind mount, which a rename would break.
   */
  void writeHosts(String content) {
    write("hosts", content);
  }

  private void write(String name, String content) {
    Path file = Path.of("/etc/netns", netns, name);
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  @Override
  public void close() {
    PodNetwork.deleteNamespace(netns);
    network.release(hostIndex);
  }
}
