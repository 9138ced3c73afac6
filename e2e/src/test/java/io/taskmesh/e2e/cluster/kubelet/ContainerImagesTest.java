package io.taskmesh.e2e.cluster.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.taskmesh.operator.inject.SidecarInjection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The image catalog is what the builds bake into the images: read from the poms (Jib) and from sidecar/Dockerfile
 * (the proxy), so they cannot drift.
 */
class ContainerImagesTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void theCatalogHoldsExactlyTheImagesThePomsBuildWithTheirMainClassesAndJvmFlags() throws Exception {
    Document parent = parse(ROOT.resolve("pom.xml"));
    String repository = property(parent, "image.repository");
    Map<String, String> built = new HashMap<>();
    for (String module : modules(parent)) {
      Path pom = ROOT.resolve(module).resolve("pom.xml");
      Document document = parse(pom);
      if ("false".equals(property(document, "image.skip"))) {
        String name = property(document, "image.name");
        String artifactId = childText(document.getDocumentElement(), "artifactId");
        built.put(repository + "/" + (name == null ? artifactId : name), property(document, "image.mainClass"));
      }
    }
    assertThat(built).isEqualTo(ContainerImages.JIB_MAIN_CLASSES);

    Element jib = plugin(parent, "jib-maven-plugin");
    List<String> flags = texts(jib, "jvmFlag");
    assertThat(flags).isEqualTo(ContainerImages.JIB_JVM_FLAGS);
    assertThat(texts(jib, "user")).containsExactly(PodWorker.IMAGE_USER + ":" + PodWorker.IMAGE_USER);
  }

  @Test
  void theProxysDockerfileRunsTheEntrypointAndTrainsTheArchiveWithTheFlagsTheOperatorInjects() throws Exception {
    String dockerfile = Files.readString(ROOT.resolve("sidecar/Dockerfile")).replace("\\\n", " ");
    List<String> entrypoint = new ArrayList<>(List.of("java"));
    entrypoint.addAll(ContainerImages.PROXY_JVM_FLAGS);
    entrypoint.addAll(List.of("-cp", ProxyImage.JAR, ProxyImage.MAIN_CLASS));

    assertThat(instruction(dockerfile, "ENTRYPOINT"))
        .isEqualTo("[" + String.join(", ", entrypoint.stream().map(arg -> "\"" + arg + "\"").toList()) + "]");
    assertThat(instruction(dockerfile, "USER")).isEqualTo(PodWorker.IMAGE_USER + ":" + PodWorker.IMAGE_USER);
    assertThat(dockerfile.lines()).contains("COPY sidecar/target/taskmesh-proxy.jar " + ProxyImage.JAR);
    assertThat(instruction(dockerfile, "ARG")).isEqualTo("TRAINING_JAVA_OPTIONS=\""
        + SidecarInjection.ClassDataArchive.trainingOptions(SidecarInjection.JAVA_OPTIONS) + "\"");
    assertThat(instruction(dockerfile, "RUN").replaceAll("\\s+", " "))
        .startsWith("JAVA_TOOL_OPTIONS=\"$TRAINING_JAVA_OPTIONS\" /app/training/train-class-archive.sh "
            + SidecarInjection.ClassDataArchive.PATH + " " + String.join(" ", entrypoint) + " &&");
  }

  @Test
  void theProxyImageRunsItsEntrypointOnItsOwnJarWhateverRegistryAndTag() {
    ContainerImages images = ContainerImages.project("/cp/a.jar").with(ContainerImages.PROXY_IMAGE,
        new ContainerImages.JavaImage(ProxyImage.MAIN_CLASS, ContainerImages.PROXY_JVM_FLAGS, ProxyImage.JAR,
            () -> Map.of(ProxyImage.JAR, Path.of("/cache/taskmesh-proxy.jar"))));
    Container container = new ContainerBuilder().withName("proxy")
        .withImage("registry.example.com:5000/taskmesh/taskmesh-proxy:0.1.0@sha256:abc")
        .withArgs("--config", "/etc/taskmesh/proxy.yaml")
        .build();

    List<String> argv = images.argv(container, Map.of(), classpath -> "/host/view/of/" + classpath);

    List<String> expected = new ArrayList<>(ContainerImages.PROXY_JVM_FLAGS);
    expected.addAll(List.of("-cp", ProxyImage.JAR, ProxyImage.MAIN_CLASS, "--config", "/etc/taskmesh/proxy.yaml"));
    assertThat(argv.subList(1, argv.size())).isEqualTo(expected);
  }

  @Test
  void aProjectImageRunsJavaWithItsMainClassAndTheContainersArgsWhateverRegistryAndTag() {
    ContainerImages images = ContainerImages.project("/cp/a.jar");
    Container container = new ContainerBuilder().withName("operator")
        .withImage("registry.example.com:5000/taskmesh/operator:0.1.0@sha256:abc")
        .withArgs("--config", "$(CONFIG)", "$$(CONFIG)")
        .withNewResources().addToLimits("memory", new Quantity("128Mi")).endResources()
        .build();

    List<String> argv = images.argv(container, Map.of("CONFIG", "/etc/taskmesh/proxy.yaml"), UnaryOperator.identity());

    assertThat(argv.get(0)).endsWith("/bin/java");
    List<String> expected = new ArrayList<>(List.of("-XX:MaxRAM=134217728"));
    expected.addAll(ContainerImages.JIB_JVM_FLAGS);
    expected.addAll(List.of("-cp", "/cp/a.jar", "io.taskmesh.operator.Main", "--config", "/etc/taskmesh/proxy.yaml",
        "$(CONFIG)"));
    assertThat(argv.subList(1, argv.size())).isEqualTo(expected);
  }

  @Test
  void anyOtherImageRunsItsCommandVerbatimOnlyWhenTheHostHasIt() {
    ContainerImages images = ContainerImages.project("/cp/a.jar");
    Container init = new ContainerBuilder().withName("init").withImage("busybox")
        .withCommand("sh", "-c", "echo hi").build();
    assertThat(images.argv(init, Map.of(), UnaryOperator.identity())).containsExactly("sh", "-c", "echo hi");

    Container missing = new ContainerBuilder().withName("mystery").withImage("example/mystery:1")
        .withCommand("no-such-tool-here").build();
    assertThatThrownBy(() -> images.argv(missing, Map.of(), UnaryOperator.identity()))
        .hasMessageContaining("no-such-tool-here").hasMessageContaining("does not exist on this host");

    Container noCommand = new ContainerBuilder().withName("nginx").withImage("nginx:1.27").build();
    assertThatThrownBy(() -> images.argv(noCommand, Map.of(), UnaryOperator.identity()))
        .hasMessageContaining("nginx:1.27").hasMessageContaining("no command");
  }

  /** The one line of {@code name} in a Dockerfile (continuations joined), without the instruction's name. */
  private static String instruction(String dockerfile, String name) {
    List<String> lines = dockerfile.lines().filter(line -> line.startsWith(name + " ")).toList();
    assertThat(lines).as("%s lines", name).hasSize(1);
    return lines.get(0).substring(name.length() + 1).strip();
  }

  private static Document parse(Path pom) throws Exception {
    assertThat(pom).exists();
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Files.newInputStream(pom));
  }

  private static String property(Document document, String name) {
    NodeList properties = document.getDocumentElement().getElementsByTagName("properties");
    for (int i = 0; i < properties.getLength(); i++) {
      Element element = (Element) properties.item(i);
      if (element.getParentNode() == document.getDocumentElement()) {
        String value = childText(element, name);
        if (value != null) {
          return value;
        }
      }
    }
    return null;
  }

  private static List<String> modules(Document parent) {
    return texts(parent.getDocumentElement(), "module");
  }

  private static Element plugin(Document document, String artifactId) {
    NodeList plugins = document.getElementsByTagName("plugin");
    for (int i = 0; i < plugins.getLength(); i++) {
      Element plugin = (Element) plugins.item(i);
      if (artifactId.equals(childText(plugin, "artifactId"))) {
        return plugin;
      }
    }
    throw new AssertionError("no " + artifactId + " in the parent pom");
  }

  private static String childText(Element element, String name) {
    for (org.w3c.dom.Node child = element.getFirstChild(); child != null; child = child.getNextSibling()) {
      if (child instanceof Element e && e.getTagName().equals(name)) {
        return e.getTextContent().trim();
      }
    }
    return null;
  }

  private static List<String> texts(Element root, String tag) {
    List<String> values = new ArrayList<>();
    NodeList nodes = root.getElementsByTagName(tag);
    for (int i = 0; i < nodes.getLength(); i++) {
      values.add(nodes.item(i).getTextContent().trim());
    }
    return values;
  }
}
