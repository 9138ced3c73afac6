package io.taskmesh.bench;

import io.taskmesh.e2e.local.FreePorts;
import io.taskmesh.operator.inject.SidecarInjection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The proxy image's class-data archive for each proxy jar the bench runs, so its sidecars start as the image's do:
 * trained once per jar by the image's own training (sidecar/image/train-class-archive.sh and its training.yaml, the
 * sidecar's flags without the archive flag, on the bench's JVM), its ports moved to free ones since the bench runs
 * on the host's loopback. The injected {@code -XX:SharedArchiveFile=/app/taskmesh-proxy.jsa} then names that file.
 */
final class ClassDataArchives {
  private static final long TRAINING_TIMEOUT_SECONDS = 180;
  private final Path dir;
  private final Map<String, Path> archives = new ConcurrentHashMap<>();

  ClassDataArchives(Path dir) {
    this.dir = dir;
  }

  /**
   * {@code flags} as the sidecar from {@code jar} on {@code java} runs them: the injected archive flag pointing at the
   * archive trained on that jar by that JVM; without the archive's flags when {@code withArchive} is false (a proxy image from before it had one).
   */
  List<String> flags(List<String> flags, String jar, Path java, boolean withArchive) {
    String option = SidecarInjection.ClassDataArchive.OPTION;
    List<String> piece = List.of(SidecarInjection.ClassDataArchive.OPTIONS.split(" "));
    int at = Collections.indexOfSubList(flags, piece);
    if (at < 0) {
      return flags;
    }
    List<String> without = new ArrayList<>(flags.subList(0, at));
    without.addAll(flags.subList(at + piece.size(), flags.size()));
    if (!withArchive) {
      return List.copyOf(without);
    }
    // an archive loads only into the JVM build that wrote it: one per jar and JVM
    Path archive = archives.computeIfAbsent(jar + "\n" + java, ignored -> train(jar, java, without));
    return flags.stream().map(flag -> flag.equals(option) ? "-XX:SharedArchiveFile=" + archive : flag).toList();
  }

  private Path train(String jar, Path java, List<String> flags) {
    Path script = repositoryFile("sidecar/image/train-class-archive.sh");
    String name = "cds-" + archives.size() + "-" + Path.of(jar).getFileName().toString().replace(".jar", "");
    Path archive = dir.resolve(name + ".jsa");
    int admin = FreePorts.next();
    int outbound = FreePorts.next();
    int inbound = FreePorts.next();
    try {
      String config = Files.readString(script.resolveSibling("training.yaml"))
          .replace("port: 15006", "port: " + inbound).replace("appPort: 15080", "appPort: " + FreePorts.next())
          .replace("port: 15001", "port: " + outbound).replace("127.0.0.1:15010", "127.0.0.1:" + FreePorts.next())
          .replace("port: 15000", "port: " + admin);
      Path configFile = Files.writeString(dir.resolve(name + ".yaml"), config);
      List<String> command = new ArrayList<>(List.of("bash", script.toString(), archive.toString(),
          java.toString(), "-cp", jar, "io.taskmesh.sidecar.Main"));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(dir.resolve(name + ".out").toFile());
      builder.environment().keySet().removeIf(variable -> variable.contains("JAVA_OPTIONS"));
      builder.environment().putAll(Map.of("JAVA_TOOL_OPTIONS", String.join(" ", flags),
          "TRAINING_CONFIG", configFile.toString(), "TRAINING_LOG", dir.resolve(name + ".log").toString(),
          "TRAINING_ADMIN_PORT", Integer.toString(admin), "TRAINING_OUTBOUND_PORT", Integer.toString(outbound),
          "TRAINING_INBOUND_PORT", Integer.toString(inbound)));
      long started = System.nanoTime();
      Process process = builder.start();
      if (!process.waitFor(TRAINING_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        throw new IllegalStateException("the class-data training of " + jar + " did not end within "
            + TRAINING_TIMEOUT_SECONDS + " s; see " + dir.resolve(name + ".log"));
      }
      if (process.exitValue() != 0 || !Files.isRegularFile(archive)) {
        throw new IllegalStateException("the class-data training of " + jar + " failed (exit " + process.exitValue()
            + "): " + Files.readString(dir.resolve(name + ".out")).strip());
      }
      System.out.printf("class-data archive for %s on %s: %s (%,d bytes, trained in %d ms)%n", jar, java, archive,
          Files.size(archive), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      return archive;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot train the class-data archive of " + jar, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while training the class-data archive of " + jar, e);
    }
  }

  /** A file of the repository, from its root or from {@code bench/}. */
  private static Path repositoryFile(String path) {
    for (Path candidate : List.of(Path.of(path), Path.of("..").resolve(path))) {
      if (Files.isRegularFile(candidate)) {
        return candidate.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException("no " + path + " from " + Path.of("").toAbsolutePath());
  }
}
