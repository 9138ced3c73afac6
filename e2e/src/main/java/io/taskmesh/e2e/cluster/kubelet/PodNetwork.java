package io.taskmesh.e2e.cluster.kubelet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The node's network: a "node" network namespace holding the pods' bridge, joined to the host by one
 * veth pair, with host routes to the pod and service ranges through it. Nothing else is touched: every
 * address lives on a veth or bridge created here, the node namespace has no default route (a pod's
 * packet to any other address dies there), and closing removes it all. A crashed run's leftovers (same
 * cluster name) are removed on create.
 *
 * <p>Address plan, inside 10.213.0.0/16: a cluster takes the first free slot k (0..63) and gets pods
 * 10.213.4k.0/24 (bridge 10.213.4k.1), services 10.213.(4k+1).0/24 (never on-link for pods, so they
 * route it to the node, where kube-proxy's DNAT is) and the host link 10.213.(4k+2).0/30 (host .1,
 * node .2). Slots let several clusters run side by side on one machine.
 */
public final class PodNetwork implements AutoCloseable {
  static final String PREFIX = "tmk-";
  private static final Pattern CLUSTER_NAME = Pattern.compile("[a-z0-9]{1,11}");
  private static final int SLOTS = 64;
  private static final String BRIDGE = "br0";
  private static final String NODE_UPLINK = "uplink";
  private static final Path NETNS_ETC = Path.of("/etc/netns");
  private static final Path LOCKS = Path.of("/run/taskmesh-cluster");

  private final String clusterName;
  private final int slot;
  private final BitSet podAddresses = new BitSet(256);
  /** Where the search for the next free pod address starts: just after the last one given. */
  private int nextAddress = 2;
  private final AtomicInteger sandboxes = new AtomicInteger();
  private final FileLock owner;
  private boolean closed;

  private PodNetwork(String clusterName, int slot, FileLock owner) {
    this.clusterName = clusterName;
    this.slot = slot;
    this.owner = owner;
    podAddresses.set(0, 2);
    podAddresses.set(255);
  }

  /** Why pod networking cannot run here, or empty when it can (root, with iproute2 and iptables). */
  public static Optional<String> unavailableReason() {
    if (!isRoot()) {
      return Optional.of("pod networking needs root (network namespaces, veth pairs, iptables) and the Debian packages"
          + " iproute2, iptables and util-linux; running as uid " + uid());
    }
    for (String tool : List.of("ip", "iptables", "iptables-restore", "setpriv", "unshare", "nsenter")) {
      if (HostCommand.find(tool).isEmpty()) {
        return Optional.of("pod networking needs `" + tool + "` on PATH (Debian packages iproute2, iptables, util-linux)");
      }
    }
    return Optional.empty();
  }

  /** Creates the node namespace, its bridge and the host link for {@code clusterName} ([a-z0-9]{1,11}). */
  public static PodNetwork create(String clusterName) {
    if (!CLUSTER_NAME.matcher(clusterName).matches()) {
      throw new IllegalArgumentException("cluster name '" + clusterName + "' must match " + CLUSTER_NAME
          + " (it names network namespaces and a host interface of at most 15 characters)");
    }
    unavailableReason().ifPresent(reason -> {
      throw new IllegalStateException(reason);
    });
    FileLock owner = claimName(clusterName);
    try {
      return create(clusterName, owner);
    } catch (RuntimeException e) {
      release(owner);
      throw e;
    }
  }

  private static PodNetwork create(String clusterName, FileLock owner) {
    removeLeftovers(clusterName);
    String hostLink = hostLinkName(clusterName);
    String node = nodeNamespace(clusterName);
    HostCommand.run(List.of("ip", "netns", "add", node));
    try {
      HostCommand.run(List.of("ip", "link", "add", hostLink, "type", "veth", "peer", "name", NODE_UPLINK, "netns", node));
      HostCommand.run(List.of("ip", "link", "set", hostLink, "up"));
      int slot = claimSlot(hostLink);
      PodNetwork network = new PodNetwork(clusterName, slot, owner);
      network.wire();
      return network;
    } catch (RuntimeException e) {
      removeLeftovers(clusterName);
      throw e;
    }
  }

  /** The host end of the link: every pod reaches it; host services for the pods (API server, databases) bind here. */
  public InetAddress hostAddress() {
    return address(4 * slot + 2, 1);
  }

  /** The pods' range, on the bridge. */
  public String podCidr() {
    return "10.213." + (4 * slot) + ".0/24";
  }

  /** The services' range: ClusterIPs are allocated from it, and kube-proxy DNATs it to pods. */
  public String serviceCidr() {
    return "10.213." + (4 * slot + 1) + ".0/24";
  }

  public String clusterName() {
    return clusterName;
  }

  /** The namespace holding the bridge, where kube-proxy's rules live. */
  String nodeNamespace() {
    return nodeNamespace(clusterName);
  }

  InetAddress gateway() {
    return address(4 * slot, 1);
  }

  /** A new pod sandbox: its own network namespace with one address on the bridge and a default route to the node. */
  synchronized PodSandbox createSandbox() {
    if (closed) {
      throw new IllegalStateException("the pod network of cluster " + clusterName + " is closed");
    }
    // round robin, as CNI IPAM plugins allocate: a pod's address is not handed to the next pod at once, when
    // the other pods' neighbour caches may still map it to the gone pod's interface (their connects time out)
    int host = podAddresses.nextClearBit(nextAddress);
    if (host >= 255) {
      host = podAddresses.nextClearBit(2);
    }
    if (host >= 255) {
      throw new IllegalStateException("no pod address left in " + podCidr());
    }
    podAddresses.set(host);
    nextAddress = host + 1;
    int id = sandboxes.incrementAndGet();
    String netns = PREFIX + clusterName + "-p" + id;
    String bridgePort = "vp" + id;
    InetAddress ip = address(4 * slot, host);
    try {
      HostCommand.run(List.of("ip", "netns", "add", netns));
      ipIn(nodeNamespace(), "link", "add", bridgePort, "type", "veth", "peer", "name", "eth0", "netns", netns);
      ipIn(nodeNamespace(), "link", "set", bridgePort, "master", BRIDGE);
      // a pod calling a service that lands on itself: the packet leaves and re-enters the bridge on one port
      ipIn(nodeNamespace(), "link", "set", bridgePort, "type", "bridge_slave", "hairpin", "on");
      ipIn(nodeNamespace(), "link", "set", bridgePort, "up");
      ipIn(netns, "addr", "add", ip.getHostAddress() + "/24", "dev", "eth0");
      ipIn(netns, "link", "set", "eth0", "up");
      ipIn(netns, "link", "set", "lo", "up");
      ipIn(netns, "route", "add", "default", "via", gateway().getHostAddress());
      return new PodSandbox(this, netns, ip, host);
    } catch (RuntimeException e) {
      deleteNamespace(netns);
      release(host);
      throw e;
    }
  }

  synchronized void release(int host) {
    podAddresses.clear(host);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      removeLeftovers(clusterName);
    } finally {
      release(owner);
    }
  }

  /**
   * Holds the cluster name for this process: a lock file only a live owner holds, so a second cluster
   * of the same name is refused instead of having its network removed as a crashed run's leftovers.
   */
  private static FileLock claimName(String clusterName) {
    Path lockFile = LOCKS.resolve(clusterName + ".lock");
    try {
      Files.createDirectories(LOCKS);
      FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        channel.close();
        throw new ClusterNameInUseException("cluster name " + clusterName + " is in use by a running cluster on this"
            + " machine (" + lockFile + " is locked); pick another name");
      }
      return lock;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot lock " + lockFile, e);
    }
  }

  private static void release(FileLock owner) {
    try {
      owner.channel().close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot release the cluster name lock", e);
    }
  }

  private void wire() {
    String hostLink = hostLinkName(clusterName);
    String node = nodeNamespace();
    HostCommand.run(List.of("ip", "addr", "add", hostAddress().getHostAddress() + "/30", "dev", hostLink));
    String nodeUplinkAddress = address(4 * slot + 2, 2).getHostAddress();
    ipIn(node, "addr", "add", nodeUplinkAddress + "/30", "dev", NODE_UPLINK);
    ipIn(node, "link", "set", NODE_UPLINK, "up");
    ipIn(node, "link", "set", "lo", "up");
    ipIn(node, "link", "add", BRIDGE, "type", "bridge");
    ipIn(node, "addr", "add", gateway().getHostAddress() + "/24", "dev", BRIDGE);
    ipIn(node, "link", "set", BRIDGE, "up");
    HostCommand.run(List.of("ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1"));
    HostCommand.run(List.of("ip", "route", "add", serviceCidr(), "via", nodeUplinkAddress, "dev", hostLink));
  }

  /**
   * Takes the first slot whose pod route nobody holds: adding a route is atomic, so two clusters
   * created at once cannot get the same range.
   */
  private static int claimSlot(String hostLink) {
    for (int slot = 0; slot < SLOTS; slot++) {
      String podCidr = "10.213." + (4 * slot) + ".0/24";
      String nodeUplink = "10.213." + (4 * slot + 2) + ".2";
      if (routeExists(podCidr) || routeExists("10.213." + (4 * slot + 1) + ".0/24")) {
        continue;
      }
      HostCommand.Result added = HostCommand.attempt(
          List.of("ip", "route", "add", podCidr, "via", nodeUplink, "dev", hostLink, "onlink"), null);
      if (added.exitCode() == 0) {
        return slot;
      }
      if (!added.output().contains("File exists")) {
        throw new IllegalStateException("cannot add the pod route " + podCidr + ": " + added.output().strip());
      }
    }
    throw new IllegalStateException("all " + SLOTS + " pod network slots in 10.213.0.0/16 are taken on this machine");
  }

  private static boolean routeExists(String cidr) {
    return !HostCommand.run(List.of("ip", "route", "show", cidr)).isBlank();
  }

  /** Removes this cluster's namespaces (their veths and rules go with them), host link and per-pod /etc files. */
  static void removeLeftovers(String clusterName) {
    // the host link first: deleting a veth removes both ends at once, while a namespace's devices go later
    String hostLink = hostLinkName(clusterName);
    if (HostCommand.attempt(List.of("ip", "link", "show", hostLink), null).exitCode() == 0) {
      HostCommand.run(List.of("ip", "link", "del", hostLink));
    }
    String prefix = PREFIX + clusterName + "-";
    for (String netns : namespaces()) {
      if (netns.startsWith(prefix)) {
        deleteNamespace(netns);
      }
    }
  }

  static List<String> namespaces() {
    List<String> names = new ArrayList<>();
    for (String line : HostCommand.run(List.of("ip", "netns", "list")).split("\n")) {
      if (!line.isBlank()) {
        names.add(line.strip().split("\\s+")[0]);
      }
    }
    return names;
  }

  static void deleteNamespace(String netns) {
    HostCommand.attempt(List.of("ip", "netns", "del", netns), null);
    Path etc = NETNS_ETC.resolve(netns);
    if (Files.exists(etc)) {
      try (Stream<Path> files = Files.walk(etc)) {
        files.sorted((a, b) -> b.compareTo(a)).forEach(path -> path.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot remove " + etc, e);
      }
    }
  }

  static void ipIn(String netns, String... args) {
    List<String> command = new ArrayList<>(List.of("ip", "-n", netns));
    command.addAll(List.of(args));
    HostCommand.run(command);
  }

  private static String nodeNamespace(String clusterName) {
    return PREFIX + clusterName + "-node";
  }

  static String hostLinkName(String clusterName) {
    return PREFIX + clusterName;
  }

  private static InetAddress address(int third, int fourth) {
    try {
      return InetAddress.getByAddress(new byte[] {10, (byte) 213, (byte) third, (byte) fourth});
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static boolean isRoot() {
    return "0".equals(uid());
  }

  private static String uid() {
    try {
      return Files.readAllLines(Path.of("/proc/self/status")).stream()
          .filter(line -> line.startsWith("Uid:"))
          .map(line -> line.split("\\s+")[1])
          .findFirst().orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

}
