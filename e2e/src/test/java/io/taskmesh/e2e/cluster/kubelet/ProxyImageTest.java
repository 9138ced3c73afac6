package io.taskmesh.e2e.cluster.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.operator.inject.SidecarInjection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy's image as the local node makes it: a training run of the real shaded jar writes an archive that a JVM
 * started as the container starts it (the jar at /app/taskmesh-proxy.jar) maps; made once per jar; a failed or
 * stuck training leaves an image without an archive. Needs root (mount and network namespaces); skipped otherwise.
 */
class ProxyImageTest {
  private static final Path JAR = Path.of(System.getProperty("taskmesh.proxy.jar", "../sidecar/target/taskmesh-proxy.jar"));
  private static final Path TRAINING = Path.of(System.getProperty("taskmesh.proxy.training",
      "../sidecar/image/train-class-archive.sh"));
  private static final String TRAINING_OPTIONS =
      SidecarInjection.ClassDataArchive.trainingOptions(SidecarInjection.JAVA_OPTIONS);

  @TempDir
  Path dir;
  private Path jar;

  @BeforeEach
  void copyTheJar() throws Exception {
    Assumptions.assumeTrue(PodNetwork.unavailableReason().isEmpty(),
        () -> "skipped: " + PodNetwork.unavailableReason().orElseThrow());
    Assumptions.assumeTrue(Files.isRegularFile(JAR), () -> "skipped: no proxy jar at " + JAR + " (package sidecar)");
    jar = dir.resolve("source/taskmesh-proxy.jar");
    Files.createDirectories(jar.getParent());
    Files.copy(JAR, jar, StandardCopyOption.COPY_ATTRIBUTES);
  }

  @Test
  void theTrainedArchiveLoadsIntoTheContainersJvmAndIsMadeOncePerJar() throws Exception {
    Map<String, Path> files = image(TRAINING, Duration.ofMinutes(3)).files();

    assertThat(files).containsOnlyKeys(ProxyImage.JAR, SidecarInjection.ClassDataArchive.PATH);
    Path archive = files.get(SidecarInjection.ClassDataArchive.PATH);
    assertThat(Files.size(archive)).isGreaterThan(1_000_000);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(archive))).isEqualTo("r--r--r--");
    assertThat(Files.getLastModifiedTime(files.get(ProxyImage.JAR))).isEqualTo(Files.getLastModifiedTime(jar));
    // -Xshare:on: an archive the JVM cannot use is an error instead of a silent start without it
    String started = runAsTheContainer(files, "-Xshare:on", "-XX:SharedArchiveFile=" + archive,
        "-Xlog:class+load=info");
    assertThat(started).contains("io.taskmesh.sidecar.Main source: shared objects file (top)")
        .contains("usage: taskmesh-proxy");

    FileTime trained = Files.getLastModifiedTime(archive);
    assertThat(image(TRAINING, Duration.ofMinutes(3)).files()).as("the same jar: the image already made")
        .isEqualTo(files);
    assertThat(Files.getLastModifiedTime(archive)).isEqualTo(trained);

    Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));
    Map<String, Path> rebuilt = image(TRAINING, Duration.ofMinutes(3)).files();
    assertThat(rebuilt.get(SidecarInjection.ClassDataArchive.PATH)).as("a changed jar: trained again")
        .isNotEqualTo(archive).isRegularFile();
    assertThat(archive).as("the earlier jar's image is gone").doesNotExist();
  }

  @Test
  void aTrainingThatFailsOrHangsLeavesAnImageWithoutAnArchive() throws Exception {
    Path failing = script("failing.sh", "echo 'train-class-archive: no luck' >&2\nexit 3\n");
    Map<String, Path> files = image(failing, Duration.ofMinutes(1)).files();
    assertThat(files).containsOnlyKeys(ProxyImage.JAR);

    Path hanging = script("hanging.sh", "sleep 300 &\nwait\n");
    long started = System.nanoTime();
    files = image(hanging, Duration.ofSeconds(3)).files();
    assertThat(files).containsOnlyKeys(ProxyImage.JAR);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(60));
    await("the stuck training's processes gone").atMost(Duration.ofSeconds(20)).until(() -> ProcessHandle.current()
        .descendants().noneMatch(p -> p.info().commandLine().orElse("").matches(".*(hanging\\.sh|sleep 300).*")));
  }

  private ProxyImage image(Path training, Duration timeout) {
    return new ProxyImage(jar, training, dir.resolve("images"), ContainerImages.PROXY_JVM_FLAGS, TRAINING_OPTIONS,
        timeout);
  }

  private Path script(String name, String body) throws Exception {
    Path script = dir.resolve(name);
    Files.writeString(script, "#!/bin/bash\n" + body);
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    return script;
  }

  /** java as the kubelet starts the image's entrypoint: the image's files bound at their paths, no config given. */
  private static String runAsTheContainer(Map<String, Path> files, String... jvmFlags) throws Exception {
    List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
        "mount --bind \"$1\" " + ProxyImage.JAR + " && shift && exec \"$@\"", "sh", files.get(ProxyImage.JAR).toString(),
        Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(List.of(TRAINING_OPTIONS.split(" ")));
    command.addAll(ContainerImages.PROXY_JVM_FLAGS);
    command.addAll(List.of(jvmFlags));
    command.addAll(List.of("-cp", ProxyImage.JAR, ProxyImage.MAIN_CLASS));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isEqualTo(2); // the proxy's usage: no config
    return output;
  }
}
