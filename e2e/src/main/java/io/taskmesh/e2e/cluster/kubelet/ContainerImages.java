package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Quantity;
import io.taskmesh.e2e.local.Classpath;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * What runs for an image. The project's Jib images run {@code java} from the e2e runtime classpath with the
 * main class and JVM flags their Jib build bakes in (parent pom: {@code jib-maven-plugin}; each module:
 * {@code image.name}, {@code image.mainClass}); a container of one that names its own command finds the classpath
 * at {@code /app/jib-classpath-file}, as in a Jib image. The proxy's image is sidecar/Dockerfile's: its entrypoint,
 * its jar at {@code /app/taskmesh-proxy.jar} and the class-data archive trained on it ({@link ProxyImage}). Any
 * other image runs its container's command verbatim, when that command exists on this host (a shell script,
 * iptables): there is no image to unpack.
 */
public final class ContainerImages {
  /** The JVM flags of every project image (parent pom, Jib {@code container.jvmFlags}). */
  public static final List<String> JIB_JVM_FLAGS = List.of("-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError");

  /** The project's Jib images by repository name (registry prefix and tag are ignored). */
  public static final Map<String, String> JIB_MAIN_CLASSES = Map.of(
      "taskmesh/operator", "io.taskmesh.operator.Main",
      "taskmesh/task-service", "io.taskmesh.taskservice.Main");

  /** The proxy's image, built from sidecar/Dockerfile. */
  public static final String PROXY_IMAGE = "taskmesh/taskmesh-proxy";
  /** The JVM flags of its entrypoint (sidecar/Dockerfile), the Jib images' own. */
  public static final List<String> PROXY_JVM_FLAGS = JIB_JVM_FLAGS;

  private final Map<String, JavaImage> javaImages;

  private ContainerImages(Map<String, JavaImage> javaImages) {
    this.javaImages = Map.copyOf(javaImages);
  }

  /**
   * A Java image: its main class and flags, started from {@code classpath}. {@code files}: what the image holds
   * itself, by path in the container (mounted read-only), when its classpath names those paths; otherwise (no
   * files) the classpath is the host's, made readable for the container's user and written to
   * {@code /app/jib-classpath-file}, as a Jib image has it.
   */
  public record JavaImage(String mainClass, List<String> jvmFlags, String classpath, Supplier<Map<String, Path>> files) {
    public JavaImage {
      jvmFlags = List.copyOf(jvmFlags);
    }

    /** An image run from the host's classpath. */
    public JavaImage(String mainClass, List<String> jvmFlags, String classpath) {
      this(mainClass, jvmFlags, classpath, Map::of);
    }

    boolean runsFromHostClasspath() {
      return files.get().isEmpty();
    }
  }

  /** The project's images, from the classpath the e2e build wrote. */
  public static ContainerImages project() {
    return project(Classpath.forChildren());
  }

  public static ContainerImages project(String classpath) {
    return project(classpath, ProxyImage.project(PROXY_JVM_FLAGS));
  }

  static ContainerImages project(String classpath, ProxyImage proxy) {
    Map<String, JavaImage> images = new HashMap<>();
    JIB_MAIN_CLASSES.forEach((repository, mainClass) ->
        images.put(repository, new JavaImage(mainClass, JIB_JVM_FLAGS, classpath)));
    images.put(PROXY_IMAGE, new JavaImage(ProxyImage.MAIN_CLASS, PROXY_JVM_FLAGS, ProxyImage.JAR, proxy::files));
    return new ContainerImages(images);
  }

  /** These images plus {@code repository} running {@code image} (tests add their own small apps). */
  public ContainerImages with(String repository, JavaImage image) {
    Map<String, JavaImage> images = new HashMap<>(javaImages);
    images.put(repository, image);
    return new ContainerImages(images);
  }

  /** The Java image {@code reference} names, if it is one of ours. */
  public Optional<JavaImage> javaImage(String reference) {
    return Optional.ofNullable(javaImages.get(repository(reference)));
  }

  /**
   * The argv of {@code container}: as Kubernetes combines an image's entrypoint with a container's
   * command (replaces it) and args (replace the image's cmd, which Jib leaves empty). {@code classpathView}
   * gives the classpath as the container's user can read it.
   */
  List<String> argv(Container container, Map<String, String> env, UnaryOperator<String> classpathView) {
    List<String> command = expand(container.getCommand(), env);
    List<String> args = expand(container.getArgs(), env);
    List<String> argv = new ArrayList<>();
    var java = javaImage(container.getImage());
    if (!command.isEmpty()) {
      if (java.isEmpty() && HostCommand.find(command.get(0)).isEmpty()) {
        throw new IllegalArgumentException("container " + container.getName() + ": image " + container.getImage()
            + " is not a project image and its command " + command.get(0) + " does not exist on this host");
      }
      argv.addAll(command);
    } else if (java.isPresent()) {
      argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      memoryLimit(container).ifPresent(bytes -> argv.add("-XX:MaxRAM=" + bytes));
      argv.addAll(java.get().jvmFlags());
      String classpath = java.get().runsFromHostClasspath() ? classpathView.apply(java.get().classpath())
          : java.get().classpath();
      argv.addAll(List.of("-cp", classpath, java.get().mainClass()));
    } else {
      throw new IllegalArgumentException("container " + container.getName() + ": image " + container.getImage()
          + " is not one of " + javaImages.keySet() + " and has no command to run on this host");
    }
    argv.addAll(args);
    return argv;
  }

  /** {@code registry.example.com/taskmesh/operator:0.1.0} → {@code taskmesh/operator}. */
  static String repository(String reference) {
    if (reference == null || reference.isBlank()) {
      throw new IllegalArgumentException("a container has no image");
    }
    String name = reference.contains("@") ? reference.substring(0, reference.indexOf('@')) : reference;
    int lastSlash = name.lastIndexOf('/');
    int colon = name.indexOf(':', lastSlash + 1);
    if (colon >= 0) {
      name = name.substring(0, colon);
    }
    String[] parts = name.split("/");
    return parts.length >= 2 ? parts[parts.length - 2] + "/" + parts[parts.length - 1] : name;
  }

  /** The JVM inside a container sizes itself from the cgroup limit; here it is told the limit instead. */
  private static Optional<Long> memoryLimit(Container container) {
    if (container.getResources() == null || container.getResources().getLimits() == null) {
      return Optional.empty();
    }
    Quantity memory = container.getResources().getLimits().get("memory");
    return memory == null ? Optional.empty()
        : Optional.of(Quantity.getAmountInBytes(memory).longValue());
  }

  /** Kubernetes' {@code $(VAR)} references in command and args; {@code $$} escapes. */
  static List<String> expand(List<String> values, Map<String, String> env) {
    List<String> expanded = new ArrayList<>();
    for (String value : values == null ? List.<String>of() : values) {
      expanded.add(EnvExpansion.expand(value, env));
    }
    return expanded;
  }

}
