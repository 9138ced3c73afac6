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

/** The images values.yaml names are the ones `./mvnw -Pimages package` builds (Jib, the parent's images profile). */
class ImagesMatchBuildTest {
  private static final Pattern IMAGE_NAME = Pattern.compile("<image\\.name>([^<]+)</image\\.name>");
  private static final Pattern IMAGE_REPOSITORY = Pattern.compile("<image\\.repository>([^<]+)</image\\.repository>");

  @Test
  void everyImageInValuesIsBuiltByTheModuleThatShipsIt() throws IOException {
    Map<String, Object> values = Serialization.unmarshal(Files.readString(ChartFixture.CHART.resolve("values.yaml")), Map.class);
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> images = (Map<String, Map<String, Object>>) values.get("images");

    assertThat(images.get("operator").get("repository")).isEqualTo(builtImage("operator"));
    assertThat(images.get("proxy").get("repository")).isEqualTo(builtImage("sidecar"));
    assertThat(images.get("taskService").get("repository")).isEqualTo(builtImage("task-service"));
  }

  /** repository/name of the image a module builds: its image.name, else its artifactId. */
  private static String builtImage(String module) throws IOException {
    String parent = Files.readString(Path.of("..", "pom.xml"));
    String pom = Files.readString(Path.of("..", module, "pom.xml"));
    assertThat(pom).as("%s ships an image", module).contains("<image.skip>false</image.skip>");
    Matcher name = IMAGE_NAME.matcher(pom);
    Matcher repository = IMAGE_REPOSITORY.matcher(parent);
    assertThat(repository.find()).isTrue();
    return repository.group(1) + "/" + (name.find() ? name.group(1) : module);
  }
}
