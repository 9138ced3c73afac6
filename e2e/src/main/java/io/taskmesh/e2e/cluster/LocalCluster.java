package io.taskmesh.e2e.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.taskmesh.e2e.cluster.apiserver.ApiServer;
import io.taskmesh.e2e.cluster.controllers.ControllerManager;
import io.taskmesh.e2e.cluster.kubelet.ContainerImages;
import io.taskmesh.e2e.cluster.kubelet.Kubelet;
import io.taskmesh.e2e.cluster.kubelet.PodNetwork;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kubernetes cluster on this machine, for the product to run on as it does on a real one: an API server
 * (HTTPS, CRD schemas and CEL enforced, admission webhooks called), the controllers the product relies on,
 * and one node whose kubelet runs pods in network namespaces, with {@link ExternalServices} outside the
 * cluster (Zipkin at {@code zipkin.default:9411} when asked for, PostgreSQL at {@code postgres.default:5432}
 * on demand). Needs root.
 */
public final class LocalCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalCluster.class);

  /**
   * @param name names the cluster's network namespaces, [a-z0-9]{1,11}
   * @param apiServerPort 0 for any free port
   * @param zipkinJar where Zipkin's exec jar is, or empty to run without tracing
   * @param probePeriodCap when present, the kubelet runs every probe at least this often, whatever its
   *     {@code periodSeconds} (the demo's setting: a pod is seen ready within this of being so)
   */
  public record Settings(String name, int apiServerPort, Path workDir, Optional<Path> zipkinJar,
      Optional<Duration> probePeriodCap) {
    /** Probes at their own periods, as a kubelet runs them. */
    public Settings(String name, int apiServerPort, Path workDir, Optional<Path> zipkinJar) {
      this(name, apiServerPort, workDir, zipkinJar, Optional.empty());
    }
  }

  private final List<AutoCloseable> parts;
  private final PodNetwork network;
  private final ApiServer apiServer;
  private final Kubelet kubelet;
  private final Path kubeconfig;
  private final ExternalServices externalServices;

  private LocalCluster(List<AutoCloseable> parts, PodNetwork network, ApiServer apiServer, Kubelet kubelet,
      Path kubeconfig, ExternalServices externalServices) {
    this.parts = parts;
    this.network = network;
    this.apiServer = apiServer;
    this.kubelet = kubelet;
    this.kubeconfig = kubeconfig;
    this.externalServices = externalServices;
  }

  /** Why the cluster cannot run here, or empty when it can. */
  public static Optional<String> unavailableReason() {
    return PodNetwork.unavailableReason();
  }

  public static LocalCluster start(Settings settings) {
    unavailableReason().ifPresent(reason -> {
      throw new IllegalStateException("the local cluster runs pods in network namespaces: " + reason);
    });
    List<AutoCloseable> parts = new ArrayList<>();
    try {
      Files.createDirectories(settings.workDir());
      PodNetwork network = PodNetwork.create(settings.name());
      parts.add(network);
      ApiServer apiServer = ApiServer.start(List.of(network.hostAddress(), InetAddress.getLoopbackAddress()),
          settings.apiServerPort(), network.serviceCidr());
      parts.add(apiServer);
      // before the kubelet, so they stop after the pods that call them
      ExternalServices externalServices = new ExternalServices(apiServer.client(), network.hostAddress(),
          settings.workDir().resolve("external"));
      parts.add(externalServices);
      // Zipkin's JVM starts while the controllers and the kubelet do; callers of zipkin() wait for it
      settings.zipkinJar().ifPresent(externalServices::startZipkin);
      ControllerManager controllers = new ControllerManager(component(apiServer), apiServer.caPem());
      parts.add(controllers);
      controllers.start();
      Kubelet kubelet = new Kubelet(component(apiServer), network, ContainerImages.project(),
          apiServer.access(network.hostAddress()), settings.workDir().resolve("node"), settings.probePeriodCap());
      parts.add(kubelet);
      kubelet.start();
      Path kubeconfig = apiServer.writeKubeconfig(settings.workDir().resolve("kubeconfig"), settings.name());
      log.info("event=cluster_started name={} api_server={} pods={} services={} kubeconfig={}", settings.name(),
          apiServer.url(InetAddress.getLoopbackAddress()), network.podCidr(), network.serviceCidr(), kubeconfig);
      return new LocalCluster(parts, network, apiServer, kubelet, kubeconfig, externalServices);
    } catch (IOException e) {
      closeAll(parts);
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      closeAll(parts);
      throw e;
    }
  }

  /** A client of its own for a cluster component, so that no component's watches starve another's requests. */
  private static KubernetesClient component(ApiServer apiServer) {
    return new KubernetesClientBuilder().withConfig(apiServer.config(apiServer.url(InetAddress.getLoopbackAddress())))
        .build();
  }

  /** A client for the cluster, as an administrator. */
  public KubernetesClient client() {
    return apiServer.client();
  }

  /** How pods reach the API server. */
  public ClusterAccess access() {
    return apiServer.access(network.hostAddress());
  }

  /** A kubeconfig file for {@code kubectl}. */
  public Path kubeconfig() {
    return kubeconfig;
  }

  public String apiServerUrl() {
    return apiServer.url(InetAddress.getLoopbackAddress());
  }

  public PodNetwork network() {
    return network;
  }

  public Kubelet kubelet() {
    return kubelet;
  }

  /** Zipkin's address from the host, when it runs (waiting for it while it starts). */
  public Optional<URI> zipkin() {
    return externalServices.zipkin();
  }

  /** The services outside the cluster that pods call by name (PostgreSQL, Zipkin). */
  public ExternalServices externalServices() {
    return externalServices;
  }

  /** Stops the pods (each with its grace period), the controllers, the API server and removes the network. */
  @Override
  public synchronized void close() {
    closeAll(parts);
  }

  /**
   * Stops at once, as a node switched off: every pod's containers SIGKILLed without a grace period, then the
   * rest as {@link #close()} does (external services stopped, network namespaces and host link removed).
   */
  public synchronized void kill() {
    kubelet.kill();
    closeAll(parts);
  }

  private static void closeAll(List<AutoCloseable> parts) {
    for (int i = parts.size() - 1; i >= 0; i--) {
      try {
        log.info("event=cluster_part_stopping part={}", parts.get(i).getClass().getSimpleName());
        parts.get(i).close();
      } catch (Exception e) {
        log.warn("event=cluster_part_close_failed part={} error={}", parts.get(i).getClass().getSimpleName(), e.toString());
      }
    }
    parts.clear();
  }
}
