package io.taskmesh.sidecar;

import io.netty.util.ResourceLeakDetector;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.config.ConfigWatcher;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar taskmesh-proxy.jar --config proxy.yaml [--mode gateway]} (or env {@code TASKMESH_CONFIG}).
 * A {@code gateway:} section in the config starts the gateway listener too; {@code --mode gateway} insists
 * on one. Exits 2 with the offending key when the config is invalid; drains on SIGTERM.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    Instant mainStarted = Instant.now();
    Logger log = LoggerFactory.getLogger(Main.class); // here, not in a static field: logging's set-up counts to main_ms
    lighterNettyDefaults();
    quietLeakDetection();
    Path file = configPath(args);
    if (file == null) {
      System.err.println("usage: taskmesh-proxy --config <proxy.yaml> [--mode sidecar|gateway]   (or set TASKMESH_CONFIG)");
      System.exit(2);
    }
    String content;
    MeshConfig config;
    try {
      content = Files.readString(file);
      config = MeshConfigParser.parse(content);
    } catch (IOException e) {
      System.err.println("taskmesh-proxy: cannot read config " + file + ": " + e.getMessage());
      System.exit(2);
      return;
    } catch (ConfigException e) {
      System.err.println("taskmesh-proxy: invalid config " + file + ": " + e.getMessage());
      System.exit(2);
      return;
    }
    String mode = option(args, "--mode");
    if (mode != null && !mode.equals("sidecar") && !mode.equals("gateway")) {
      System.err.println("taskmesh-proxy: --mode must be sidecar or gateway, got '" + mode + "'");
      System.exit(2);
    }
    if ("gateway".equals(mode) && !config.isGateway()) {
      System.err.println("taskmesh-proxy: --mode gateway needs a gateway: section with its routes in " + file);
      System.exit(2);
    }
    // 0.0.0.0 in a pod; 127.0.0.1 where pods share one host's loopback (the local mesh, tests)
    String bindAddress = System.getenv().getOrDefault("TASKMESH_BIND_ADDRESS", "0.0.0.0");
    Sidecar sidecar;
    try {
      sidecar = Sidecar.start(config, bindAddress);
    } catch (ConfigException e) {  // a file the config names is unusable, e.g. gateway.tls.keyFile
      System.err.println("taskmesh-proxy: invalid config " + file + ": " + e.getMessage());
      System.exit(2);
      return;
    } catch (RuntimeException e) {
      System.err.println("taskmesh-proxy: cannot start: " + e.getMessage());
      System.exit(1);
      return;
    }
    ConfigWatcher watcher = sidecar.watchConfig(file, content, Duration.ofSeconds(2));
    // start-up in two parts: the JVM until main (class-data sharing shortens it), main until the ports are bound. The
    // JVM's own start time, not the process's: Linux gives that from the boot time in whole seconds (up to 1 s off)
    Instant jvmStarted = Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime());
    log.info("event=started outbound={} inbound={} admin={} gateway={} jvm_ms={} main_ms={}", sidecar.outboundPort(),
        sidecar.inboundPort(), sidecar.adminPort(), config.isGateway() ? sidecar.gatewayPort() : "off",
        Duration.between(jvmStarted, mainStarted).toMillis(), Duration.between(mainStarted, Instant.now()).toMillis());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("event=draining timeout={}", sidecar.drainTimeout());
      sidecar.drain();
      watcher.close();
      sidecar.close();
      stopped.countDown();
    }, "taskmesh-drain"));
    stopped.await();
  }

  /**
   * Defaults of the deployed proxy, each unless a {@code -D} flag says otherwise; set before Netty or grpc-java
   * first load (bench/README.md has what each was worth). Netty's JFR events (its allocator's and its event
   * loops') cost some 130 classes of JFR even with no recording. The buffer pool: Netty's pooled allocator with
   * one direct arena per event loop, none on the heap (the proxy relays direct buffers) and 1 MiB chunks (HTTP/2
   * frames are at most 16 KiB), where Netty 4.2's default adaptive allocator held ~3 MB more at idle. grpc-java
   * (the control-plane stream, the app's health probe, reflection) uses that pool too instead of one of its own.
   */
  private static void lighterNettyDefaults() {
    defaultProperty("io.netty.jfr.enabled", "false");
    defaultProperty("io.netty.allocator.type", "pooled");
    defaultProperty("io.netty.allocator.numDirectArenas", Integer.toString(Runtime.getRuntime().availableProcessors()));
    defaultProperty("io.netty.allocator.numHeapArenas", "0");
    defaultProperty("io.netty.allocator.maxOrder", "7");
    defaultProperty("io.grpc.netty.useCustomAllocator", "false");
  }

  private static void defaultProperty(String name, String value) {
    if (System.getProperty(name) == null) {
      System.setProperty(name, value);
    }
  }

  /**
   * Netty's leak detector samples buffers with a stack trace each, a few percent of a busy proxy's CPU;
   * the deployed proxy runs without it unless {@code -Dio.netty.leakDetection.level} asks for it. Tests
   * start the proxy without this entry point and keep the detector.
   */
  private static void quietLeakDetection() {
    if (System.getProperty("io.netty.leakDetection.level") == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
  }

  private static String option(String[] args, String name) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return null;
  }

  private static Path configPath(String[] args) {
    String option = option(args, "--config");
    if (option != null) {
      return Path.of(option);
    }
    String env = System.getenv("TASKMESH_CONFIG");
    return env == null || env.isBlank() ? null : Path.of(env);
  }
}
