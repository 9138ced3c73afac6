package io.taskmesh.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.operator.inject.SidecarInjection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench's sidecars map an archive trained on their own jar, as the image's sidecars map the image's. */
class ClassDataArchivesTest {
  private static final Path JAR = Path.of("../sidecar/target/taskmesh-proxy.jar");

  @TempDir
  Path dir;

  @Test
  void theInjectedArchiveFlagNamesTheArchiveTrainedOnTheJarThatRuns() throws Exception {
    ClassDataArchives archives = new ClassDataArchives(dir);
    String jar = JAR.toAbsolutePath().normalize().toString();

    List<String> flags = archives.flags(Topologies.SIDECAR_JVM, jar, Topologies.sidecarJava(), true);

    String archiveFlag = flags.stream().filter(flag -> flag.startsWith("-XX:SharedArchiveFile=")).findFirst()
        .orElseThrow();
    Path archive = Path.of(archiveFlag.substring("-XX:SharedArchiveFile=".length()));
    assertThat(archive).startsWith(dir).isRegularFile();
    assertThat(Files.size(archive)).isGreaterThan(1_000_000);
    assertThat(flags).hasSameSizeAs(Topologies.SIDECAR_JVM).doesNotContain(SidecarInjection.ClassDataArchive.OPTION);
    assertThat(archives.flags(Topologies.SIDECAR_JVM, jar, Topologies.sidecarJava(), true)).as("trained once per jar").isEqualTo(flags);
  }

  @Test
  void withoutTheArchiveOrWithFlagsThatNameNoneTheFlagsStayTheSidecarsOwn() {
    ClassDataArchives archives = new ClassDataArchives(dir);

    assertThat(archives.flags(Topologies.SIDECAR_JVM, "/no/such.jar", Topologies.sidecarJava(), false))
        .doesNotContain(SidecarInjection.ClassDataArchive.OPTION, "-XX:ArchiveRelocationMode=0")
        .hasSize(Topologies.SIDECAR_JVM.size() - SidecarInjection.ClassDataArchive.OPTIONS.split(" ").length);
    List<String> replaced = List.of("-XX:+UseSerialGC", "-Xmx64m");
    assertThat(archives.flags(replaced, "/no/such.jar", Topologies.sidecarJava(), true)).isEqualTo(replaced);
  }
}
