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
import io.taskmesh.operator.Permissions.Scope;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chart's ClusterRole and Role grant exactly {@link Permissions} - what the operator's code uses - for
 * every combination of the settings that change it: no verb missing, none extra, no wildcard, and the
 * webhook configuration narrowed to its name.
 */
class RbacMatchesTheOperatorTest {

  static Stream<Arguments> settings() {
    Stream.Builder<Arguments> all = Stream.builder();
    for (boolean leaderElection : new boolean[] {true, false}) {
      for (boolean webhook : new boolean[] {true, false}) {
        for (boolean ownCertificate : new boolean[] {true, false}) {
          all.add(Arguments.of(leaderElection, webhook, ownCertificate));
        }
      }
    }
    return all.build();
  }

  @ParameterizedTest(name = "leaderElection={0} webhook={1} managedCertificate={2}")
  @MethodSource("settings")
  void theChartGrantsExactlyWhatTheOperatorUses(boolean leaderElection, boolean webhook, boolean managedCertificate) {
    List<HasMetadata> objects = render(Map.of(
        "operator.leaderElection.enabled", leaderElection,
        "webhook.enabled", webhook,
        "webhook.certificateSecret", managedCertificate ? "" : "injector-tls"));

    Set<String> granted = new TreeSet<>();
    objects.stream().filter(ClusterRole.class::isInstance).map(ClusterRole.class::cast)
        .forEach(role -> role.getRules().forEach(rule -> expand(rule, Scope.CLUSTER, granted)));
    objects.stream().filter(Role.class::isInstance).map(Role.class::cast)
        .forEach(role -> role.getRules().forEach(rule -> expand(rule, Scope.OPERATOR_NAMESPACE, granted)));
    Set<String> used = new TreeSet<>();
    Permissions.required(leaderElection, webhook, managedCertificate).stream()
        .filter(p -> p.scope() != Scope.EVERY_USER)
        .forEach(p -> used.add(triple(p.scope(), p.apiGroup(), p.resource(), p.verb())));

    assertThat(granted).as("granted by the chart (left) vs used by the operator (Permissions)").isEqualTo(used);
  }

  @ParameterizedTest(name = "leaderElection={0} webhook={1} managedCertificate={2}")
  @MethodSource("settings")
  void grantsAreNarrowedWhereKubernetesAllows(boolean leaderElection, boolean webhook, boolean managedCertificate) {
    List<HasMetadata> objects = render(Map.of(
        "operator.leaderElection.enabled", leaderElection,
        "webhook.enabled", webhook,
        "webhook.certificateSecret", managedCertificate ? "" : "injector-tls"));
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

  private static void expand(PolicyRule rule, Scope scope, Set<String> into) {
    for (String group : rule.getApiGroups()) {
      for (String resource : rule.getResources()) {
        for (String verb : rule.getVerbs()) {
          into.add(triple(scope, group, resource, verb));
        }
      }
    }
  }

  private static String triple(Scope scope, String group, String resource, String verb) {
    return scope + " " + (group.isEmpty() ? "core" : group) + "/" + resource + " " + verb;
  }
}
