package io.taskmesh.operator.inject;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The proxy's requests and limits for an injected pod: {@link SidecarInjection#defaultResources()}, each
 * overridden by a pod annotation when present, e.g. {@code taskmesh.io/proxy-memory-limit: 512Mi}.
 */
public final class SidecarResources {
  public static final String CPU_REQUEST = "taskmesh.io/proxy-cpu-request";
  public static final String MEMORY_REQUEST = "taskmesh.io/proxy-memory-request";
  public static final String CPU_LIMIT = "taskmesh.io/proxy-cpu-limit";
  public static final String MEMORY_LIMIT = "taskmesh.io/proxy-memory-limit";
  private static final Pattern QUANTITY = Pattern.compile("^[0-9]{1,9}(\\.[0-9]{1,6})?(m|k|Ki|M|Mi|G|Gi)?$");

  private SidecarResources() {}

  /** @throws IllegalArgumentException naming the annotation whose value is not a Kubernetes quantity */
  public static ResourceRequirements fromAnnotations(Map<String, String> annotations) {
    ResourceRequirements resources = SidecarInjection.defaultResources();
    override(annotations, CPU_REQUEST, resources.getRequests(), "cpu");
    override(annotations, MEMORY_REQUEST, resources.getRequests(), "memory");
    override(annotations, CPU_LIMIT, resources.getLimits(), "cpu");
    override(annotations, MEMORY_LIMIT, resources.getLimits(), "memory");
    return resources;
  }

  private static void override(Map<String, String> annotations, String annotation, Map<String, Quantity> into,
      String resource) {
    String value = annotations.get(annotation);
    if (value == null) {
      return;
    }
    if (!QUANTITY.matcher(value.trim()).matches()) {
      throw new IllegalArgumentException("annotation " + annotation + ": \"" + value
          + "\" is not a quantity such as 100m, 256Mi or 1Gi");
    }
    into.put(resource, new Quantity(value.trim()));
  }
}
