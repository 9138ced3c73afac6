package io.taskmesh.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The images values.yaml names are the ones the build makes: the operator's and the task service's by
 * `./mvnw -Pimages package` (Jib, the parent's images profile), the proxy's and the capture's init image by
 * `docker build` of their Dockerfiles, as the kind script runs it.
 */
class ImagesMatchBuildTest {
  private static final Pattern IMAGE_NAME = Pattern.compile("<image\\.name>([^<]+)</image\\.name>");
  private static final Pattern IMAGE_REPOSITORY = Pattern.compile("<image\\.repository>([^<]+)</image\\.repository>");

  @Test
  void everyImageInValuesIsBuiltByTheModuleThatShipsIt() throws IOException {
    Map<String, Object> values = Serialization.unmarshal(Files.readString(ChartFixture.CHART.resolve("values.yaml")), Map.class);
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> images = (Map<String, Map<String, Object>>) values.get("images");

    assertThat(images.get("operator").get("repository")).isEqualTo(builtByJib("operator"));
    assertThat(images.get("taskService").get("repository")).isEqualTo(builtByJib("task-service"));
    assertThat(images.get("proxy").get("repository")).isEqualTo(builtFromDockerfile("sidecar/Dockerfile"));
    assertThat(images.get("proxyInit").get("repository")).isEqualTo(builtFromDockerfile("proxy-init/Dockerfile"));
  }

  /** repository/name of the image a module builds with Jib: its image.name, else its artifactId. */
  private static String builtByJib(String module) throws IOException {
    String parent = Files.readString(Path.of("..", "pom.xml"));
    String pom = Files.readString(Path.of("..", module, "pom.xml"));
    assertThat(pom).as("%s ships an image", module).contains("<image.skip>false</image.skip>");
    Matcher name = IMAGE_NAME.matcher(pom);
    Matcher repository = IMAGE_REPOSITORY.matcher(parent);
    assertThat(repository.find()).isTrue();
    return repository.group(1) + "/" + (name.find() ? name.group(1) : module);
  }

  /** The repository the kind script tags the image of {@code dockerfile} with. */
  private static String builtFromDockerfile(String dockerfile) throws IOException {
    assertThat(Path.of("..", dockerfile)).exists();
    Matcher build = Pattern.compile("docker build -f \"\\$ROOT/" + Pattern.quote(dockerfile) + "\" -t \"([^:\"]+):")
        .matcher(Files.readString(Path.of("..", "e2e", "kind", "run.sh")));
    assertThat(build.find()).as("e2e/kind/run.sh builds %s", dockerfile).isTrue();
    return build.group(1);
  }
}
