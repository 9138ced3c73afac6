package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * kube-proxy in iptables mode, in the node namespace: each ClusterIP:port DNATs to one of its Service's
 * ready endpoints, picked at random with equal weight ({@code statistic --mode random} with
 * probabilities 1/n, 1/(n-1), ...), and traffic so translated is masqueraded to the bridge address so
 * replies come back through the node (pod → service → pod on the same bridge, and a pod reaching
 * itself through its own service). The whole chain is rewritten in one {@code iptables-restore}, so no
 * packet sees half a rule set.
 */
final class KubeProxy implements AutoCloseable {
  static final String CHAIN = "TMK-SERVICES";
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  private final String nodeNamespace;
  private String applied;

  KubeProxy(String nodeNamespace) {
    this.nodeNamespace = nodeNamespace;
  }

  /** Creates the chain and the jumps to it from PREROUTING (pods, host) and OUTPUT, and the masquerade rule. */
  void install() {
    iptablesRestore("*nat\n:" + CHAIN + " - [0:0]\n"
        + "-A PREROUTING -j " + CHAIN + "\n"
        + "-A OUTPUT -j " + CHAIN + "\n"
        + "-A POSTROUTING -m conntrack --ctstate DNAT -j MASQUERADE\n"
        + "COMMIT\n");
  }

  synchronized void sync(List<Service> services, List<EndpointSlice> slices) {
    String rules = rules(services, slices);
    if (rules.equals(applied)) {
      return;
    }
    iptablesRestore(rules);
    applied = rules;
  }

  /** The nat table's service chain for these Services and EndpointSlices. */
  static String rules(List<Service> services, List<EndpointSlice> slices) {
    StringBuilder rules = new StringBuilder("*nat\n:" + CHAIN + " - [0:0]\n");
    services.stream()
        .filter(ServiceHosts::hasClusterIp)
        .sorted(Comparator.comparing((Service s) -> s.getMetadata().getNamespace()).thenComparing(s -> s.getMetadata().getName()))
        .forEach(service -> {
          for (ServicePort port : service.getSpec().getPorts()) {
            List<String> endpoints = readyEndpoints(service, port, slices);
            String protocol = port.getProtocol() == null ? "tcp" : port.getProtocol().toLowerCase(Locale.ROOT);
            for (int i = 0; i < endpoints.size(); i++) {
              rules.append("-A ").append(CHAIN)
                  .append(" -d ").append(service.getSpec().getClusterIP()).append("/32")
                  .append(" -p ").append(protocol).append(" -m ").append(protocol)
                  .append(" --dport ").append(port.getPort())
                  .append(" -m comment --comment \"").append(service.getMetadata().getNamespace()).append('/')
                  .append(service.getMetadata().getName()).append(':').append(port.getPort()).append('"');
              int remaining = endpoints.size() - i;
              if (remaining > 1) {
                rules.append(" -m statistic --mode random --probability ")
                    .append(String.format(Locale.ROOT, "%.10f", 1.0 / remaining));
              }
              rules.append(" -j DNAT --to-destination ").append(endpoints.get(i)).append('\n');
            }
          }
        });
    return rules.append("COMMIT\n").toString();
  }

  /** ip:port of the ready endpoints behind one service port, matched by port name as EndpointSlices name them. */
  static List<String> readyEndpoints(Service service, ServicePort port, List<EndpointSlice> slices) {
    List<String> endpoints = new ArrayList<>();
    String portName = port.getName() == null ? "" : port.getName();
    for (EndpointSlice slice : slices) {
      if (!service.getMetadata().getNamespace().equals(slice.getMetadata().getNamespace())
          || slice.getMetadata().getLabels() == null
          || !service.getMetadata().getName().equals(slice.getMetadata().getLabels().get(SERVICE_NAME_LABEL))) {
        continue;
      }
      Integer target = slice.getPorts() == null ? null : slice.getPorts().stream()
          .filter(p -> portName.equals(p.getName() == null ? "" : p.getName()))
          .map(EndpointPort::getPort).filter(Objects::nonNull).findFirst().orElse(null);
      if (target == null) {
        continue;
      }
      for (Endpoint endpoint : slice.getEndpoints()) {
        boolean ready = endpoint.getConditions() == null || endpoint.getConditions().getReady() == null
            || endpoint.getConditions().getReady();
        if (ready) {
          endpoint.getAddresses().forEach(address -> endpoints.add(address + ":" + target));
        }
      }
    }
    return endpoints.stream().distinct().sorted().toList();
  }

  /** Removes the chain and the jumps to it. */
  @Override
  public synchronized void close() {
    for (List<String> rule : List.of(
        List.of("-D", "PREROUTING", "-j", CHAIN),
        List.of("-D", "OUTPUT", "-j", CHAIN),
        List.of("-D", "POSTROUTING", "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"),
        List.of("-F", CHAIN),
        List.of("-X", CHAIN))) {
      List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", nodeNamespace, "iptables", "-w", "-t", "nat"));
      command.addAll(rule);
      HostCommand.attempt(command, null);
    }
    applied = null;
  }

  private void iptablesRestore(String rules) {
    HostCommand.run(List.of("ip", "netns", "exec", nodeNamespace, "iptables-restore", "-w", "--noflush"), rules);
  }
}
