package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.Service;
import java.util.Comparator;
import java.util.List;

/**
 * A pod's {@code /etc/hosts}: what cluster DNS would answer for Service names — {@code svc} (same
 * namespace), {@code svc.ns}, {@code svc.ns.svc} and {@code svc.ns.svc.cluster.local} → ClusterIP — and
 * the pod's own name, as the kubelet writes it.
 */
final class ServiceHosts {
  static final String CLUSTER_DOMAIN = "cluster.local";

  private ServiceHosts() {}

  static String render(String podNamespace, String podName, String podIp, List<Service> services) {
    StringBuilder hosts = new StringBuilder()
        .append("# Kubernetes-managed hosts file (taskmesh local kubelet).\n")
        .append("127.0.0.1\tlocalhost\n")
        .append("::1\tlocalhost ip6-localhost ip6-loopback\n")
        .append(podIp).append('\t').append(podName).append('\n');
    services.stream()
        .filter(service -> hasClusterIp(service))
        .sorted(Comparator.comparing((Service s) -> s.getMetadata().getNamespace())
            .thenComparing(s -> s.getMetadata().getName()))
        .forEach(service -> {
          String name = service.getMetadata().getName();
          String namespace = service.getMetadata().getNamespace();
          hosts.append(service.getSpec().getClusterIP()).append('\t')
              .append(name).append('.').append(namespace).append(".svc.").append(CLUSTER_DOMAIN).append(' ')
              .append(name).append('.').append(namespace).append(".svc ")
              .append(name).append('.').append(namespace);
          if (namespace.equals(podNamespace)) {
            hosts.append(' ').append(name);
          }
          hosts.append('\n');
        });
    return hosts.toString();
  }

  static boolean hasClusterIp(Service service) {
    String ip = service.getSpec() == null ? null : service.getSpec().getClusterIP();
    return ip != null && !ip.isEmpty() && !"None".equals(ip);
  }
}
