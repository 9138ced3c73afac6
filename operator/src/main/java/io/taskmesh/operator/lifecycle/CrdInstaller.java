package io.taskmesh.operator.lifecycle;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Brings the taskmesh CRDs (TaskService, AuthorizationPolicy) in the cluster up to the ones this operator was built with (the same file as
 * crds/, generated from the Java types into the jar). Helm installs a chart's crds/ only on the first install
 * and never upgrades them, so the chart runs this as a pre-upgrade hook ({@code operator apply-crds}).
 */
public final class CrdInstaller {
  static final String RESOURCE = "/META-INF/fabric8/taskservices.taskmesh.io-v1.yml";
  private static final List<String> RESOURCES = List.of(RESOURCE,
      "/META-INF/fabric8/authorizationpolicies.taskmesh.io-v1.yml");

  private CrdInstaller() {}

  /** @return what was done, for the hook's log: each CRD's name, "created" or "updated" */
  public static String apply(KubernetesClient client) {
    return RESOURCES.stream().map(resource -> {
      CustomResourceDefinition wanted = bundled(resource);
      return wanted.getMetadata().getName() + " " + apply(client, wanted);
    }).collect(Collectors.joining(", "));
  }

  private static String apply(KubernetesClient client, CustomResourceDefinition wanted) {
    var crds = client.apiextensions().v1().customResourceDefinitions();
    CustomResourceDefinition current = crds.withName(wanted.getMetadata().getName()).get();
    if (current == null) {
      crds.resource(wanted).create();
      return "created";
    }
    wanted.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
    wanted.getMetadata().setLabels(current.getMetadata().getLabels());
    wanted.getMetadata().setAnnotations(current.getMetadata().getAnnotations());
    crds.resource(wanted).update();
    return "updated";
  }

  /** The TaskService CRD. */
  static CustomResourceDefinition bundled() {
    return bundled(RESOURCE);
  }

  private static CustomResourceDefinition bundled(String resource) {
    try (InputStream in = CrdInstaller.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is not in the operator's jar");
      }
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
