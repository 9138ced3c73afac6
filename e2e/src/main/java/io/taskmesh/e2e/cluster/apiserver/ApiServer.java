package io.taskmesh.e2e.cluster.apiserver;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.taskmesh.e2e.cluster.ClusterAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The local cluster's API server: the fabric8 mock in CRUD mode for storage and watches, behind
 * {@link ApiServerDispatcher} for what a real API server adds, served over HTTPS with the cluster's own CA on
 * every address given (the mock itself listens on loopback only). Starts with the namespaces {@code default},
 * {@code kube-system} and {@code kube-public} and the {@code kubernetes} Service.
 */
public final class ApiServer implements AutoCloseable {
  /**
   * The token of the API server's default access; it authenticates nobody for the API, like the mock behind it.
   * TokenReviews know only the tokens minted by TokenRequest (as the kubelet asks for projected tokens).
   */
  public static final String TOKEN = "local-cluster-admin";

  /** Held so that the level set on it stays: the mock logs every request through java.util.logging. */
  private final java.util.logging.Logger mockLog = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");
  private final KubernetesMockServer mock;
  private final List<TlsTerminator> listeners;
  private final ClusterCertificates certificates;
  private final InetAddress clientAddress;
  private final int port;
  private final KubernetesClient client;

  private ApiServer(KubernetesMockServer mock, List<TlsTerminator> listeners, ClusterCertificates certificates,
      InetAddress clientAddress, int port) {
    this.mock = mock;
    mockLog.setLevel(java.util.logging.Level.WARNING);
    this.listeners = listeners;
    this.certificates = certificates;
    this.clientAddress = clientAddress;
    this.port = port;
    this.client = new KubernetesClientBuilder().withConfig(config(url(clientAddress))).build();
  }

  /**
   * @param addresses where to serve HTTPS; the first is where {@link #client()} and the kubeconfig point
   * @param port the HTTPS port on each address (0: any free one, the same on every address)
   * @param serviceCidr the range Service ClusterIPs come from
   */
  public static ApiServer start(List<InetAddress> addresses, int port, String serviceCidr) {
    KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
    ObjectStore store = new ObjectStore(crud);
    CustomResourceSchemas schemas = new CustomResourceSchemas(store);
    ServiceIpAllocation serviceIps = new ServiceIpAllocation(store, serviceCidr);
    NamespaceLifecycle lifecycle = new NamespaceLifecycle(store);
    Map<List<String>, List<Admission>> admission = new HashMap<>();
    admission.put(List.of("", "namespaces"), List.of(new NamespaceDefaults()));
    admission.put(List.of("", "services"), List.of(serviceIps));
    admission.put(List.of("apiextensions.k8s.io", "customresourcedefinitions"),
        List.of(new CustomResourceDefinitions(Clock.systemUTC())));
    FrontAdmission podCreation = new FrontAdmission(List.of(lifecycle, new PodDefaults(), new MutatingWebhooks(store)));
    ApiServerDispatcher dispatcher = new ApiServerDispatcher(store, new Discovery(store),
        new Tables(schemas, Clock.systemUTC()), schemas, admission, lifecycle, new Deletion(store, Clock.systemUTC()),
        new ServiceAccountTokens(Clock.systemUTC()));
    KubernetesMockServer mock = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        dispatcher, false);
    mock.init(InetAddress.getLoopbackAddress(), 0);
    ClusterCertificates certificates = ClusterCertificates.create(addresses, List.of("kubernetes",
        "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"));
    List<TlsTerminator> listeners = new ArrayList<>();
    try {
      for (InetAddress address : addresses) {
        int listenPort = listeners.isEmpty() ? port : listeners.get(0).port();
        listeners.add(new TlsTerminator(certificates.serverContext(), address, listenPort,
            new InetSocketAddress(InetAddress.getLoopbackAddress(), mock.getPort()), podCreation));
      }
    } catch (IOException e) {
      listeners.forEach(TlsTerminator::close);
      mock.destroy();
      throw new UncheckedIOException("cannot listen for the API server on " + addresses + " port " + port, e);
    }
    ApiServer server = new ApiServer(mock, listeners, certificates, addresses.get(0), listeners.get(0).port());
    server.bootstrap(serviceIps.first());
    return server;
  }

  private void bootstrap(String kubernetesServiceIp) {
    for (String namespace : List.of("default", "kube-system", "kube-public", "kube-node-lease")) {
      client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .create();
    }
    client.services().inNamespace("default").resource(new ServiceBuilder().withNewMetadata().withName("kubernetes")
        .addToLabels("component", "apiserver").addToLabels("provider", "kubernetes").endMetadata()
        .withNewSpec().withClusterIP(kubernetesServiceIp).addNewPort().withName("https").withPort(443)
        .withNewTargetPort(port).endPort().endSpec().build()).create();
  }

  /** The HTTPS port the API server listens on. */
  public int port() {
    return port;
  }

  public String url(InetAddress address) {
    return "https://" + address.getHostAddress() + ":" + port;
  }

  /** An administrator's client, trusting the cluster CA. */
  public KubernetesClient client() {
    return client;
  }

  /** What pods are given to reach this API server at {@code podFacingAddress}. */
  public ClusterAccess access(InetAddress podFacingAddress) {
    return new ClusterAccess(podFacingAddress.getHostAddress(), port, certificates.caPem(), TOKEN);
  }

  public String caPem() {
    return certificates.caPem();
  }

  /** A client configuration for {@code url}, trusting this cluster's CA and nothing from ~/.kube. */
  public Config config(String url) {
    return new ConfigBuilder(Config.empty()).withMasterUrl(url)
        .withCaCertData(Base64.getEncoder().encodeToString(certificates.caPem().getBytes(StandardCharsets.US_ASCII)))
        .withOauthToken(TOKEN).withNamespace("default").withRequestTimeout(30_000).build();
  }

  /** Writes a kubeconfig for {@code kubectl} pointing at the first address; returns {@code file}. */
  public Path writeKubeconfig(Path file, String clusterName) {
    String ca = Base64.getEncoder().encodeToString(certificates.caPem().getBytes(StandardCharsets.US_ASCII));
    String kubeconfig = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: %1$s
          cluster:
            server: %2$s
            certificate-authority-data: %3$s
        users:
        - name: %1$s-admin
          user:
            token: %4$s
        contexts:
        - name: %1$s
          context:
            cluster: %1$s
            user: %1$s-admin
            namespace: default
        current-context: %1$s
        """.formatted(clusterName, url(clientAddress), ca, TOKEN);
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, kubeconfig);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the kubeconfig " + file, e);
    }
  }

  @Override
  public void close() {
    client.close();
    listeners.forEach(TlsTerminator::close);
    mock.destroy();
  }
}
