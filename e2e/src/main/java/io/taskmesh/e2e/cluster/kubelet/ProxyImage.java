package io.taskmesh.e2e.cluster.kubelet;

import io.taskmesh.e2e.local.FileTrees;
import io.taskmesh.operator.inject.SidecarInjection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code taskmesh/taskmesh-proxy} image as sidecar/Dockerfile builds it, made once for this host's {@code java}:
 * the proxy's shaded jar at {@value #JAR} and the class-data archive a training run of it wrote
 * ({@code sidecar/image/train-class-archive.sh}, with the sidecar's injected flags), at
 * {@link SidecarInjection.ClassDataArchive#PATH}. The archive only loads into the JVM build and the class path (the
 * jar's path, size and mtime) it was written with, so the training runs the jar at {@value #JAR} in a mount namespace
 * of its own (and a network namespace of its own, for its fixed ports), as a container will.
 *
 * <p>Kept under {@code cacheDir} by the jar's size and mtime, the JVM and the training's flags and script, so the
 * training runs again only when one of them changes. When it fails or runs out of time, the image holds no
 * archive (the reason logged), its sidecars start without one, as they would from an image without the file, and
 * the next cluster tries again.
 */
final class ProxyImage {
  private static final Logger log = LoggerFactory.getLogger(ProxyImage.class);
  static final String JAR = "/app/taskmesh-proxy.jar";
  static final String MAIN_CLASS = "io.taskmesh.sidecar.Main";
  private static final String JAR_FILE = "taskmesh-proxy.jar";
  private static final String ARCHIVE_FILE = "taskmesh-proxy.jsa";

  // as a mount in ContainerCommand: the jar bound at JAR; loopback up in the new network namespace
  private static final String NAMESPACE_SCRIPT = """
      ip link set lo up || exit 126
      mount --bind "$1" "$2" || exit 126
      shift 2
      exec "$@"
      """;

  private final Path sourceJar;
  private final Path trainingScript;
  private final Path cacheDir;
  private final List<String> entrypointFlags;
  private final String trainingOptions;
  private final Duration timeout;
  private Map<String, Path> files;

  /**
   * @param entrypointFlags the JVM flags of the image's entrypoint
   * @param trainingOptions the sidecar's {@code JAVA_TOOL_OPTIONS} without the archive flag
   */
  ProxyImage(Path sourceJar, Path trainingScript, Path cacheDir, List<String> entrypointFlags, String trainingOptions,
      Duration timeout) {
    this.sourceJar = sourceJar.toAbsolutePath();
    this.trainingScript = trainingScript.toAbsolutePath();
    this.cacheDir = cacheDir.toAbsolutePath();
    this.entrypointFlags = List.copyOf(entrypointFlags);
    this.trainingOptions = trainingOptions;
    this.timeout = timeout;
  }

  /** The image from the build's own files: the shaded jar, the training script, a cache under e2e's target/. */
  static ProxyImage project(List<String> entrypointFlags) {
    return new ProxyImage(Path.of(System.getProperty("taskmesh.proxy.jar", "sidecar/target/taskmesh-proxy.jar")),
        Path.of(System.getProperty("taskmesh.proxy.training", "sidecar/image/train-class-archive.sh")),
        Path.of(System.getProperty("taskmesh.images.dir", "e2e/target/images")).resolve("taskmesh-proxy"),
        entrypointFlags, SidecarInjection.ClassDataArchive.trainingOptions(SidecarInjection.JAVA_OPTIONS),
        Duration.ofMinutes(3));
  }

  /** The image's files by their path in the container; made (and trained) at the first call. */
  synchronized Map<String, Path> files() {
    if (files == null) {
      files = build();
    }
    return files;
  }

  private Map<String, Path> build() {
    if (!Files.isRegularFile(sourceJar)) {
      throw new IllegalStateException("no proxy jar at " + sourceJar
          + " for the taskmesh-proxy image: build the sidecar module (./mvnw -pl e2e -am package)");
    }
    try {
      Path image = cacheDir.resolve(key());
      if (!Files.isRegularFile(image.resolve(ARCHIVE_FILE))) {
        make(image); // the first time for this jar and JVM, or again after a training that failed
      }
      Map<String, Path> made = new LinkedHashMap<>();
      made.put(JAR, image.resolve(JAR_FILE));
      if (Files.isRegularFile(image.resolve(ARCHIVE_FILE))) {
        made.put(SidecarInjection.ClassDataArchive.PATH, image.resolve(ARCHIVE_FILE));
      }
      return Map.copyOf(made);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make the taskmesh-proxy image under " + cacheDir, e);
    }
  }

  /** Copies the jar (its mtime kept) and trains the archive in a directory of its own, then moves it in place. */
  private void make(Path image) throws IOException {
    Files.createDirectories(cacheDir);
    Path building = Files.createTempDirectory(cacheDir, ".building-");
    try {
      Path jar = building.resolve(JAR_FILE);
      Files.copy(sourceJar, jar, StandardCopyOption.COPY_ATTRIBUTES);
      Files.setPosixFilePermissions(jar, AtomicWriter.permissions(0644));
      Files.setPosixFilePermissions(building, AtomicWriter.permissions(0755));
      long started = System.nanoTime();
      String failure = train(jar, building.resolve(ARCHIVE_FILE), building.resolve("training.log"));
      long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();
      if (failure == null) {
        Files.setPosixFilePermissions(building.resolve(ARCHIVE_FILE), AtomicWriter.permissions(0444));
        log.info("event=proxy_image_trained archive={} bytes={} took_ms={}", image.resolve(ARCHIVE_FILE),
            Files.size(building.resolve(ARCHIVE_FILE)), millis);
      } else {
        Files.deleteIfExists(building.resolve(ARCHIVE_FILE));
        log.warn("event=proxy_image_without_archive reason=\"{}\" took_ms={} (its sidecars start without class-data"
            + " sharing; training log: {})", failure, millis, image.resolve("training.log"));
      }
      removeOtherBuilds();
      try {
        Files.move(building, image, StandardCopyOption.ATOMIC_MOVE); // an image is complete or absent
      } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
        // made at the same moment by another cluster of this checkout: theirs is as good
      }
    } finally {
      if (Files.exists(building)) {
        FileTrees.delete(building);
      }
    }
  }

  /** Runs the training; null when it wrote the archive, else why not. */
  private String train(Path jar, Path archive, Path trainingLog) throws IOException {
    if (!Files.isRegularFile(trainingScript)) {
      return "no training script at " + trainingScript;
    }
    ContainerCommand.ensureMountPoint(new ContainerCommand.Mount(jar, JAR, true));
    List<String> command = new ArrayList<>(List.of(tool("unshare"), "--net", "--mount", "--propagation", "private",
        tool("sh"), "-c", NAMESPACE_SCRIPT, "sh", jar.toString(), JAR, tool("bash"), trainingScript.toString(),
        archive.toString(),
        Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(entrypointFlags);
    command.addAll(List.of("-cp", JAR, MAIN_CLASS));
    Path output = trainingLog.resolveSibling("training.out");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
    String path = builder.environment().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    builder.environment().clear();
    builder.environment().put("PATH", path);
    builder.environment().put("JAVA_TOOL_OPTIONS", trainingOptions);
    builder.environment().put("TRAINING_LOG", trainingLog.toString());
    Process process = builder.start();
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        return "the training run did not end within " + timeout.toSeconds() + " s";
      }
    } catch (InterruptedException e) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return "interrupted";
    }
    String said = Files.readString(output, StandardCharsets.UTF_8).strip();
    if (process.exitValue() != 0) {
      return "the training run exited " + process.exitValue() + ": " + lastLines(said, 3);
    }
    return Files.isRegularFile(archive) && Files.size(archive) > 0 ? null : "the training run wrote no archive";
  }

  private String key() throws IOException {
    BasicFileAttributes jar = Files.readAttributes(sourceJar, BasicFileAttributes.class);
    String identity = String.join("\n", Long.toString(jar.size()), Long.toString(jar.lastModifiedTime().toMillis()),
        System.getProperty("java.home"), System.getProperty("java.vm.version"), String.join(" ", entrypointFlags),
        trainingOptions, Files.isRegularFile(trainingScript) ? Files.readString(trainingScript) : "");
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Earlier jars' images: a sidecar started from now on gets the new one. */
  private void removeOtherBuilds() throws IOException {
    try (Stream<Path> entries = Files.list(cacheDir)) {
      for (Path entry : entries.toList()) {
        if (!entry.getFileName().toString().startsWith(".")) {
          FileTrees.delete(entry);
        }
      }
    }
  }

  private static String lastLines(String text, int count) {
    List<String> lines = text.lines().toList();
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - count), lines.size()));
  }

  private static String tool(String name) {
    return HostCommand.find(name).map(Path::toString)
        .orElseThrow(() -> new IllegalStateException(name + " is not on this host's PATH"));
  }
}
