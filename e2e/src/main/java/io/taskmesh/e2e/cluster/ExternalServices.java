package io.taskmesh.e2e.cluster;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.taskmesh.e2e.local.FreePorts;
import io.taskmesh.e2e.zipkin.ZipkinServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Services that run outside the cluster and that pods call by name: PostgreSQL (a real one, zonky's embedded
 * binaries) and Zipkin (its exec jar). Each listens on the host end of the node link, the one host address
 * every pod can reach, and is published the way a user publishes a database that lives outside Kubernetes: a
 * Service without a selector ({@code postgres.default:5432}, {@code zipkin.default:9411}) and an EndpointSlice
 * of its own listing that address. Pods reach the Service's ClusterIP through kube-proxy like any other
 * Service, and its DNS name stays the same when the database moves. (An ExternalName Service would need
 * cluster DNS to answer a CNAME, and cannot map the Service's port to another.)
 */
public final class ExternalServices implements AutoCloseable {
  /** Marks the EndpointSlices published here, so the EndpointSlice controller leaves them alone. */
  static final String MANAGED_BY = "local-cluster";
  /** Where the external Services are created. */
  public static final String NAMESPACE = "default";
  public static final String POSTGRES = "postgres";
  public static final int POSTGRES_PORT = 5432;
  public static final String ZIPKIN = "zipkin";
  private static final Logger log = LoggerFactory.getLogger(ExternalServices.class);

  private final KubernetesClient api;
  private final InetAddress hostAddress;
  private final Path workDir;
  private final List<AutoCloseable> started = new ArrayList<>();
  private CompletableFuture<Postgres> postgres;
  private CompletableFuture<ZipkinServer> zipkin;

  /**
   * A service outside the cluster as pods see it ({@code name.namespace:port}) and where it really listens.
   *
   * @param hostPort the port on {@code hostAddress}; the Service's {@code port} maps to it
   */
  public record Published(String namespace, String name, int port, InetAddress hostAddress, int hostPort) {
    /** The name pods use, fully qualified, so it resolves from every namespace. */
    public String clusterHost() {
      return name + "." + namespace + ".svc.cluster.local";
    }
  }

  /**
   * The cluster's PostgreSQL: database {@code postgres}, user {@code postgres} with a password made for this
   * run; pods authenticate with it (scram-sha-256), this host's loopback without.
   */
  public record Postgres(Published service, String user, String password) {
    /** The JDBC URL a pod uses: the Service's name, the credentials in the URL (which is why it is a Secret). */
    public String clusterJdbcUrl() {
      return "jdbc:postgresql://" + service.clusterHost() + ":" + service.port() + "/postgres?user=" + user
          + "&password=" + password;
    }

    /** The JDBC URL from this host, over loopback. */
    public String hostJdbcUrl() {
      return "jdbc:postgresql://127.0.0.1:" + service.hostPort() + "/postgres?user=" + user;
    }

    /**
     * {@code kubectl create secret generic <name> --from-literal=url=<clusterJdbcUrl>}: the Secret a TaskService's
     * {@code spec.database.postgresUrlSecret} names (key {@code url}).
     */
    public Secret urlSecret(String namespace, String name) {
      return new SecretBuilder().withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
          .withType("Opaque").withStringData(Map.of("url", clusterJdbcUrl())).build();
    }
  }

  ExternalServices(KubernetesClient api, InetAddress hostAddress, Path workDir) {
    this.api = api;
    this.hostAddress = hostAddress;
    this.workDir = workDir;
  }

  /** Starts PostgreSQL (once) and publishes it as {@code postgres.default:5432}; waits until it runs. */
  public Postgres postgres() {
    return joined(startPostgres(), "PostgreSQL");
  }

  /**
   * Starts PostgreSQL in the background (once), so that it comes up while the cluster does other work; the
   * Service is published at once, as a database that is still starting would be.
   */
  public synchronized CompletableFuture<Postgres> startPostgres() {
    if (postgres == null) {
      String password = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
      int hostPort = FreePorts.next();
      Published service = publish(POSTGRES, POSTGRES_PORT, hostPort);
      postgres = CompletableFuture.supplyAsync(() -> runPostgres(service, password), ExternalServices::inBackground);
    }
    return postgres;
  }

  private Postgres runPostgres(Published service, String password) {
    try {
      Path hba = Files.createDirectories(workDir).resolve("pg_hba.conf");
      Files.writeString(hba, hostBasedAuthentication());
      EmbeddedPostgres server = EmbeddedPostgres.builder()
          .setPort(service.hostPort())
          .setDataDirectory(workDir.resolve("postgres"))
          .setCleanDataDirectory(true)
          .setServerConfig("listen_addresses", "127.0.0.1," + hostAddress.getHostAddress())
          .setServerConfig("hba_file", hba.toString())
          .setOutputRedirector(java.lang.ProcessBuilder.Redirect.appendTo(workDir.resolve("postgres.log").toFile()))
          .setErrorRedirector(java.lang.ProcessBuilder.Redirect.appendTo(workDir.resolve("postgres.log").toFile()))
          .start();
      synchronized (this) {
        started.add(server);
      }
      try (Connection connection = server.getPostgresDatabase().getConnection();
          Statement statement = connection.createStatement()) {
        statement.execute("ALTER USER postgres PASSWORD '" + password + "'");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start PostgreSQL for the cluster", e);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot set the password of the cluster's PostgreSQL", e);
    }
    log.info("event=external_service_started name={} cluster={}:{} host={}:{}", POSTGRES, service.clusterHost(),
        POSTGRES_PORT, hostAddress.getHostAddress(), service.hostPort());
    return new Postgres(service, "postgres", password);
  }

  /** Starts Zipkin from {@code jar} (once) on the host address, publishes it as {@code zipkin.default:9411}, waits. */
  public URI zipkin(Path jar) {
    return joined(startZipkin(jar), "Zipkin").baseUri();
  }

  /** Starts Zipkin in the background (once); its Service is published at once. */
  public synchronized CompletableFuture<ZipkinServer> startZipkin(Path jar) {
    if (zipkin == null) {
      try {
        Files.createDirectories(workDir);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create " + workDir, e);
      }
      publish(ZIPKIN, ClusterPorts.ZIPKIN, ClusterPorts.ZIPKIN);
      zipkin = CompletableFuture.supplyAsync(() -> {
        ZipkinServer server = ZipkinServer.start(jar, hostAddress.getHostAddress(), ClusterPorts.ZIPKIN,
            workDir.resolve("zipkin.log"), Duration.ofSeconds(120));
        synchronized (this) {
          started.add(server);
        }
        log.info("event=external_service_started name={} url={}", ZIPKIN, server.baseUri());
        return server;
      }, ExternalServices::inBackground);
    }
    return zipkin;
  }

  /** Whether Zipkin was asked for (it may still be starting). */
  public synchronized boolean tracing() {
    return zipkin != null;
  }

  /** Zipkin's address from this host, once it runs (waiting for it when it is starting). */
  public Optional<URI> zipkin() {
    CompletableFuture<ZipkinServer> starting;
    synchronized (this) {
      starting = zipkin;
    }
    return Optional.ofNullable(starting).map(future -> joined(future, "Zipkin").baseUri());
  }

  private static <T> T joined(CompletableFuture<T> future, String what) {
    try {
      return future.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause
          : new IllegalStateException("cannot start " + what, e.getCause());
    }
  }

  /** One daemon thread per service start: a start is a few seconds of waiting on a child process. */
  private static void inBackground(Runnable start) {
    Thread thread = new Thread(start, "external-service-start");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Loopback trusted (the local administrator, as initdb sets it); the node link, where pods' connections
   * arrive after kube-proxy's masquerade, with the password; anything else refused.
   */
  private String hostBasedAuthentication() {
    return "local all all trust\n"
        + "host all all 127.0.0.1/32 trust\n"
        + "host all all " + linkNetwork() + "/30 scram-sha-256\n";
  }

  private String linkNetwork() {
    byte[] address = hostAddress.getAddress();
    address[3] &= (byte) 0xfc;
    try {
      return InetAddress.getByAddress(address).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** A Service without a selector, and the EndpointSlice that says where it really is. */
  private Published publish(String name, int port, int hostPort) {
    api.services().inNamespace(NAMESPACE).resource(new ServiceBuilder().withNewMetadata().withName(name)
        .addToLabels("app.kubernetes.io/part-of", "local-cluster").endMetadata()
        .withNewSpec().addNewPort().withName("tcp").withPort(port).withNewTargetPort(hostPort).endPort().endSpec()
        .build()).create();
    api.discovery().v1().endpointSlices().inNamespace(NAMESPACE).resource(new EndpointSliceBuilder()
        .withNewMetadata().withName(name + "-external").addToLabels("kubernetes.io/service-name", name)
        .addToLabels("endpointslice.kubernetes.io/managed-by", MANAGED_BY).endMetadata()
        .withAddressType("IPv4")
        .addNewEndpoint().withAddresses(hostAddress.getHostAddress()).withNewConditions().withReady(true)
        .withServing(true).withTerminating(false).endConditions().endEndpoint()
        .addNewPort().withName("tcp").withPort(hostPort).withProtocol("TCP").endPort().build()).create();
    return new Published(NAMESPACE, name, port, hostAddress, hostPort);
  }

  /** Stops what was started, newest first, once the starts under way have ended (so none outlives the cluster). */
  @Override
  public void close() {
    List<CompletableFuture<?>> starting = new ArrayList<>();
    synchronized (this) {
      java.util.stream.Stream.of(postgres, zipkin).filter(java.util.Objects::nonNull).forEach(starting::add);
    }
    for (CompletableFuture<?> start : starting) {
      try {
        start.join();
      } catch (RuntimeException e) {
        log.warn("event=external_service_start_failed error={}", e.toString());
      }
    }
    synchronized (this) {
      for (int i = started.size() - 1; i >= 0; i--) {
        try {
          started.get(i).close();
        } catch (Exception e) {
          log.warn("event=external_service_close_failed error={}", e.toString());
        }
      }
      started.clear();
      postgres = null;
      zipkin = null;
    }
  }
}
