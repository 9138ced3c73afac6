package io.taskmesh.helm;

import static io.taskmesh.helm.ChartFixture.only;
import static io.taskmesh.helm.ChartFixture.render;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.taskmesh.operator.Permissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chart's ClusterRole and Roles grant exactly {@link Permissions} - what the operator's code uses - for
 * every combination of the settings that change it: no verb missing, none extra, no wildcard, the webhook
 * configuration narrowed to its name, and reconciling narrowed to the watched namespaces when there are some.
 */
class RbacMatchesTheOperatorTest {

  static Stream<Arguments> settings() {
    Stream.Builder<Arguments> all = Stream.builder();
    for (boolean leaderElection : new boolean[] {true, false}) {
      for (boolean webhook : new boolean[] {true, false}) {
        for (boolean ownCertificate : new boolean[] {true, false}) {
          for (List<String> watched : List.of(List.<String>of(), List.of("shop", ChartFixture.NAMESPACE))) {
            for (String identity : List.of("managed", "provided", "off")) {
              all.add(Arguments.of(leaderElection, webhook, ownCertificate, watched, identity));
            }
          }
        }
      }
    }
    return all.build();
  }

  @ParameterizedTest(name = "leaderElection={0} webhook={1} managedCertificate={2} watchNamespaces={3} identity={4}")
  @MethodSource("settings")
  void theChartGrantsExactlyWhatTheOperatorUses(boolean leaderElection, boolean webhook, boolean managedCertificate,
      List<String> watched, String identity) {
    List<HasMetadata> objects = render(values(leaderElection, webhook, managedCertificate, watched, identity));

    Set<String> granted = new TreeSet<>();
    objects.stream().filter(ClusterRole.class::isInstance).map(ClusterRole.class::cast)
        .forEach(role -> role.getRules().forEach(rule -> expand(rule, "cluster", granted)));
    objects.stream().filter(Role.class::isInstance).map(Role.class::cast).forEach(role -> role.getRules()
        .forEach(rule -> expand(rule, scopeOf(role), granted)));
    Set<String> used = new TreeSet<>();
    for (Permissions.Permission p : Permissions.required(leaderElection, webhook, managedCertificate,
        !identity.equals("off"), identity.equals("managed"))) {
      switch (p.scope()) {
        case CLUSTER -> used.add(triple("cluster", p.apiGroup(), p.resource(), p.verb()));
        case OPERATOR_NAMESPACE -> used.add(triple("operator namespace", p.apiGroup(), p.resource(), p.verb()));
        // helm template (and so helm-java) leaves hook manifests out: the hooks' own roles in templates/hooks/
        // are checked by lint only, and their calls by OperatorPermissionsTest
        case CRD_UPGRADE_HOOK, CLEANUP_HOOK -> { }
        case WATCHED_NAMESPACES -> {
          if (watched.isEmpty()) {
            used.add(triple("cluster", p.apiGroup(), p.resource(), p.verb()));
          }
          watched.forEach(ns -> used.add(triple("namespace " + ns, p.apiGroup(), p.resource(), p.verb())));
        }
        case EVERY_USER -> { }
      }
    }

    assertThat(granted).as("granted by the chart (left) vs used by the operator (Permissions)").isEqualTo(used);
  }

  @ParameterizedTest(name = "leaderElection={0} webhook={1} managedCertificate={2} watchNamespaces={3} identity={4}")
  @MethodSource("settings")
  void grantsAreNarrowedWhereKubernetesAllows(boolean leaderElection, boolean webhook, boolean managedCertificate,
      List<String> watched, String identity) {
    List<HasMetadata> objects = render(values(leaderElection, webhook, managedCertificate, watched, identity));
    List<PolicyRule> rules = Stream.concat(
        objects.stream().filter(ClusterRole.class::isInstance).flatMap(r -> ((ClusterRole) r).getRules().stream()),
        objects.stream().filter(Role.class::isInstance).flatMap(r -> ((Role) r).getRules().stream())).toList();


    assertThat(rules).allSatisfy(rule -> assertThat(Stream.of(rule.getApiGroups(), rule.getResources(), rule.getVerbs())
        .flatMap(List::stream)).doesNotContain("*"));
    if (webhook) {
      String name = only(objects, MutatingWebhookConfiguration.class).getMetadata().getName();
      assertThat(rules).filteredOn(rule -> rule.getResources().contains("mutatingwebhookconfigurations"))
          .singleElement().satisfies(rule -> assertThat(rule.getResourceNames()).containsExactly(name));
    }
    assertThat(rules).filteredOn(rule -> !rule.getResources().contains("mutatingwebhookconfigurations"))
        .allSatisfy(rule -> assertThat(rule.getResourceNames()).isEmpty());
  }

  private static String scopeOf(Role role) {
    return role.getMetadata().getName().endsWith("-reconcile") ? "namespace " + role.getMetadata().getNamespace()
        : "operator namespace";
  }

  private static Map<String, Object> values(boolean leaderElection, boolean webhook, boolean managedCertificate,
      List<String> watched, String identity) {
    Map<String, Object> values = new HashMap<>(Map.of(
        "operator.leaderElection.enabled", leaderElection,
        "webhook.enabled", webhook,
        "webhook.certificateSecret", managedCertificate ? "" : "injector-tls",
        "identity.enabled", !identity.equals("off"),
        "identity.trustAnchorSecret", identity.equals("provided") ? "mesh-root" : ""));
    for (int i = 0; i < watched.size(); i++) {
      values.put("operator.watchNamespaces[" + i + "]", watched.get(i));
    }
    return values;
  }

  private static void expand(PolicyRule rule, String scope, Set<String> into) {
    for (String group : rule.getApiGroups()) {
      for (String resource : rule.getResources()) {
        for (String verb : rule.getVerbs()) {
          into.add(triple(scope, group, resource, verb));
        }
      }
    }
  }

  private static String triple(String scope, String group, String resource, String verb) {
    return scope + " " + (group.isEmpty() ? "core" : group) + "/" + resource + " " + verb;
  }
}
