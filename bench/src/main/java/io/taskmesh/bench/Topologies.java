package io.taskmesh.bench;

import io.fabric8.kubernetes.api.model.Quantity;
import io.taskmesh.e2e.local.ChildProcess;
import io.taskmesh.e2e.local.FreePorts;
import io.taskmesh.e2e.local.Readiness;
import io.taskmesh.operator.inject.SidecarInjection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The four paths compared, each client → (outbound hop → inbound hop →) task service, on loopback:
 * direct, taskmesh sidecars, nginx and haproxy.
 */
public final class Topologies {
  /**
   * JVM flags of a sidecar as the operator injects them ({@code JAVA_TOOL_OPTIONS}), with the JVM told the
   * container's memory limit ({@code -XX:MaxRAM}) as it would read it from the cgroup in a pod.
   */
  public static final List<String> SIDECAR_JVM = deployedFlags();

  private static List<String> deployedFlags() {
    List<String> flags = new java.util.ArrayList<>(List.of(SidecarInjection.JAVA_OPTIONS.trim().split("\\s+")));
    flags.add("-XX:MaxRAM=" + injectedMemoryLimitBytes());
    return List.copyOf(flags);
  }

  /** {@link #SIDECAR_JVM}, or the flags {@code bench.sidecarJvm} replaces them with. */
  public static List<String> sidecarFlags() {
    String replaced = System.getProperty("bench.sidecarJvm", "");
    return replaced.isBlank() ? SIDECAR_JVM : List.of(replaced.trim().split("\\s+"));
  }

  /** The memory limit of the injected sidecar container, in bytes. */
  public static long injectedMemoryLimitBytes() {
    return Quantity.getAmountInBytes(SidecarInjection.defaultResources().getLimits().get("memory")).longValue();
  }

  private final Path workDir;
  private final int appPort;
  private final ClassDataArchives archives;

  public Topologies(Path workDir, int appPort) {
    this.workDir = workDir;
    this.appPort = appPort;
    this.archives = new ClassDataArchives(workDir);
  }

  public Topology direct() {
    return new Simple("direct", "127.0.0.1:" + appPort, null, List.of(), List.of(), () -> { });
  }

  public Topology taskmesh() {
    return taskmesh("taskmesh", SidecarVariant.DEPLOYED);
  }

  /**
   * The taskmesh pair run another way ({@code variant}: another proxy jar, JVM or flags), measured in the same run
   * as the deployed one: a change's before and after, or two ways of running one build, under the same load.
   */
  public Topology taskmesh(String path, SidecarVariant variant) {
    String prefix = path.equals("taskmesh") ? "" : path + "-"; // a variant's logs and profiles apart
    int inbound = FreePorts.next();
    int serverAdmin = FreePorts.next();
    int outbound = FreePorts.next();
    int clientAdmin = FreePorts.next();
    // the server sidecar is ready when /ready says so (its app answers SERVING); the client sidecar has no
    // local app in the bench, so it is ready when its listeners are bound and /healthz answers
    Started server = sidecar(prefix + "server-sidecar", """
        service: task-service
        inbound: {port: %d, appPort: %d}
        outbound: {port: %d}
        admin: {port: %d}
        """.formatted(inbound, appPort, FreePorts.next(), serverAdmin), serverAdmin, "/ready", List.of(), variant);
    Started client = startOrStop(server.process(), () -> sidecar(prefix + "client-sidecar", """
        service: bench-client
        inbound: {port: %d, appPort: 1}
        outbound: {port: %d, discovery: {static: {task-service: ["127.0.0.1:%d"]}}}
        admin: {port: %d}
        """.formatted(FreePorts.next(), outbound, inbound, clientAdmin), clientAdmin, "/healthz", List.of(), variant));
    return new Simple(path, "127.0.0.1:" + outbound, "task-service",
        List.of(client.process().pid(), server.process().pid()),
        List.of(client.startToReadyMillis(), server.startToReadyMillis()), () -> {
          client.process().close();
          server.process().close();
        });
  }

  public Topology nginx() {
    int inbound = FreePorts.next();
    int outbound = FreePorts.next();
    PeerProxy server = PeerProxy.nginx(dir("nginx-in"), inbound, appPort);
    PeerProxy client = startOrStop(server, () -> PeerProxy.nginx(dir("nginx-out"), outbound, inbound));
    return new Simple("nginx", "127.0.0.1:" + outbound, null, List.of(client.pid(), server.pid()),
        List.of(client.startToReadyMillis(), server.startToReadyMillis()), () -> {
          client.close();
          server.close();
        });
  }

  public Topology haproxy() {
    int inbound = FreePorts.next();
    int outbound = FreePorts.next();
    PeerProxy server = PeerProxy.haproxy(dir("haproxy-in"), inbound, appPort);
    PeerProxy client = startOrStop(server, () -> PeerProxy.haproxy(dir("haproxy-out"), outbound, inbound));
    return new Simple("haproxy", "127.0.0.1:" + outbound, null, List.of(client.pid(), server.pid()),
        List.of(client.startToReadyMillis(), server.startToReadyMillis()), () -> {
          client.close();
          server.close();
        });
  }

  /** Starts the second proxy of a pair; if that fails, stops the first so no process outlives the run. */
  static <T> T startOrStop(AutoCloseable first, java.util.function.Supplier<T> second) {
    try {
      return second.get();
    } catch (RuntimeException e) {
      try {
        first.close();
      } catch (Exception closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
  }

  /** A started proxy process and how long it took from process start until it was ready. */
  record Started(ChildProcess process, long startToReadyMillis) {}

  /** Starts one sidecar and waits until its admin port answers {@code readyPath} with 200. */
  public Started sidecar(String name, String config, int adminPort, String readyPath) {
    return sidecar(name, config, adminPort, readyPath, List.of());
  }

  /** {@link #sidecar(String, String, int, String)} with {@code properties} (e.g. {@code -Dkey=value}) added to its JVM. */
  public Started sidecar(String name, String config, int adminPort, String readyPath, List<String> properties) {
    return sidecar(name, config, adminPort, readyPath, properties, SidecarVariant.DEPLOYED);
  }

  /** {@link #sidecar(String, String, int, String, List)} run as {@code variant} says. */
  Started sidecar(String name, String config, int adminPort, String readyPath, List<String> properties,
      SidecarVariant variant) {
    Path file = write(workDir.resolve(name + ".yaml"), config);
    String extra = System.getProperty("bench.sidecarJvmExtra", "").replace("{name}", name);
    List<String> variantFlags = variant.flags().stream().map(flag -> flag.replace("{name}", name)).toList();
    Path java = variant.javaHome().isBlank() ? sidecarJava() : Path.of(variant.javaHome(), "bin", "java");
    String classpath = variant.jar().isBlank() ? sidecarClasspath() : Path.of(variant.jar()).toAbsolutePath().toString();
    // as from the image: the archive trained on this jar by this JVM, unless the variant's or the extra flags bring
    // their own archive or training, or say how to share (-Xshare:auto: as an image without the archive, with the JDK's)
    boolean imageArchive = !(String.join(" ", variantFlags) + " " + extra)
        .matches(".*(SharedArchiveFile|ArchiveClassesAtExit|-Xshare).*");
    List<String> flags = new java.util.ArrayList<>(archives.flags(sidecarFlags(), classpath, java, imageArchive));
    flags.addAll(variantFlags);
    flags.addAll(properties);
    if (!extra.isBlank()) {
      flags.addAll(List.of(extra.trim().split("\\s+"))); // e.g. a JFR recording per sidecar
    }
    List<String> command = new java.util.ArrayList<>(List.of(java.toString()));
    command.addAll(flags);
    command.addAll(List.of("-cp", classpath, "io.taskmesh.sidecar.Main", "--config", file.toString()));
    Map<String, String> environment = new java.util.HashMap<>(variant.environment());
    environment.putAll(Map.of("TASKMESH_CONFIG", file.toString(), "TASKMESH_BIND_ADDRESS", "127.0.0.1"));
    long start = System.nanoTime();
    ChildProcess sidecar = ChildProcess.start(name, command, environment, workDir.resolve(name + ".log"));
    URI ready = URI.create("http://127.0.0.1:" + adminPort + readyPath);
    return new Started(sidecar, awaitReadyMillis(name + " answers " + ready, start, sidecar,
        () -> Readiness.answers200(ready)));
  }

  /**
   * Polls every 10 ms (finer than {@link Readiness}, whose 100 ms would be much of a proxy's start time)
   * and returns the milliseconds from {@code startNanos} until {@code ready} held.
   */
  static long awaitReadyMillis(String what, long startNanos, ChildProcess process, BooleanSupplier ready) {
    long giveUp = startNanos + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < giveUp) {
      if (ready.getAsBoolean()) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(process.name() + " exited while waiting until " + what + "; see " + process.log());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
    process.close();
    throw new IllegalStateException("timed out after 60 s waiting until " + what + "; see " + process.log());
  }

  /**
   * The JVM the proxies run on: {@code bench.sidecarJava} (a Java home, e.g. another JDK to compare), else the
   * bench's own, a JDK 17 like the proxy image's.
   */
  static Path sidecarJava() {
    String home = System.getProperty("bench.sidecarJava", "");
    return Path.of(home.isBlank() ? System.getProperty("java.home") : home).resolve("bin").resolve("java");
  }

  /**
   * The proxy's own runtime classpath, as in its image: the sidecar module's shaded jar ({@code bench.sidecarJar},
   * else {@code sidecar/target/taskmesh-proxy.jar} from the repository's root or from {@code bench/}).
   */
  static String sidecarClasspath() {
    String chosen = System.getProperty("bench.sidecarJar", "");
    List<Path> jars = chosen.isBlank()
        ? List.of(Path.of("sidecar/target/taskmesh-proxy.jar"), Path.of("../sidecar/target/taskmesh-proxy.jar"))
        : List.of(Path.of(chosen));
    return jars.stream().filter(Files::isRegularFile).findFirst().map(jar -> jar.toAbsolutePath().normalize().toString())
        .orElseThrow(() -> new IllegalStateException("no proxy jar at " + jars
            + "; build the sidecar module first (bench/run.sh does)"));
  }

  private Path dir(String name) {
    return workDir.resolve(name);
  }

  private static Path write(Path file, String content) {
    try {
      return Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  record Simple(String name, String target, String authority, List<Long> proxyPids,
      List<Long> startToReadyMillis, Runnable stop) implements Topology {
    @Override
    public void close() {
      stop.run();
    }
  }
}
